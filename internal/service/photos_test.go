package service

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// testImage is a w×h picture with a red top-left pixel, so a turn shows.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{0, 0, 200, 255})
		}
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	return img
}

func jpegOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withExif puts an APP1 EXIF segment right after a JPEG's SOI: IFD0 with the
// orientation, and a GPS IFD with a latitude and longitude (a resident's
// home), as a phone writes them.
func withExif(jpg []byte, orientation uint16) []byte {
	le := binary.LittleEndian
	var t bytes.Buffer
	t.WriteString("II*\x00")
	binary.Write(&t, le, uint32(8))
	// IFD0: orientation, GPS IFD pointer.
	binary.Write(&t, le, uint16(2))
	for _, e := range [][4]uint32{{0x0112, 3, 1, uint32(orientation)}, {0x8825, 4, 1, 8 + 2 + 2*12 + 4}} {
		binary.Write(&t, le, uint16(e[0]))
		binary.Write(&t, le, uint16(e[1]))
		binary.Write(&t, le, e[2])
		binary.Write(&t, le, e[3])
	}
	binary.Write(&t, le, uint32(0))
	// GPS IFD: N 29°33'36", E 106°34'12" as rationals after the IFD.
	gps := t.Len()
	data := uint32(gps + 2 + 4*12 + 4)
	binary.Write(&t, le, uint16(4))
	for _, e := range [][4]uint32{{1, 2, 2, uint32('N')}, {2, 5, 3, data}, {3, 2, 2, uint32('E')}, {4, 5, 3, data + 24}} {
		binary.Write(&t, le, uint16(e[0]))
		binary.Write(&t, le, uint16(e[1]))
		binary.Write(&t, le, e[2])
		binary.Write(&t, le, e[3])
	}
	binary.Write(&t, le, uint32(0))
	for _, v := range []uint32{29, 1, 33, 1, 36, 1, 106, 1, 34, 1, 12, 1} {
		binary.Write(&t, le, v)
	}
	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{0xff, 0xd8}, seg...)
	return append(out, jpg[2:]...)
}

// pngHeader is a PNG that declares w×h pixels and carries almost no data:
// the shape of a decompression bomb.
func pngHeader(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		return b.Bytes()
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

func storedPhoto(t *testing.T, s *Service, p cases.Photo) []byte {
	t.Helper()
	b, err := os.ReadFile(s.photoPath(p.Hash))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSavePhotoDropsMetadata: a JPEG with EXIF (GPS position, orientation)
// is stored again as a JPEG without any EXIF, turned as the EXIF said, and
// named by the hash of the stored file.
func TestSavePhotoDropsMetadata(t *testing.T) {
	s, _ := keyWorld(t)
	pic := testImage(40, 20)
	for y := range 8 {
		for x := range 8 {
			pic.Set(x, y, color.RGBA{255, 0, 0, 255})
		}
	}
	up := withExif(jpegOf(t, pic), 6)
	if jpegOrientation(bytes.NewReader(up)) != 6 || !bytes.Contains(up, []byte("Exif\x00\x00")) {
		t.Fatal("the test's EXIF segment is not what a phone writes")
	}
	p, err := s.SavePhoto(bytes.NewReader(up), "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	got := storedPhoto(t, s, p)
	if bytes.Contains(got, []byte("Exif")) || bytes.Contains(got, []byte{0xff, 0xe1}) {
		t.Fatal("the stored photo still carries an EXIF segment")
	}
	sum := sha256.Sum256(got)
	if p.Hash != hex.EncodeToString(sum[:]) || p.Type != "image/jpeg" || p.Size != int64(len(got)) {
		t.Fatalf("photo %+v does not describe the stored file (%d bytes)", p, len(got))
	}
	img, err := jpeg.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
		t.Fatalf("orientation 6 (turn 90° clockwise) not applied: %v", b)
	}
	// The red corner went from top-left to top-right.
	if r, _, bl, _ := img.At(16, 4).RGBA(); r>>8 < 180 || bl>>8 > 80 {
		t.Errorf("top-right pixel after the turn: %v", img.At(16, 4))
	}
	// The same upload again is the same stored photo.
	again, err := s.SavePhoto(bytes.NewReader(up), "")
	if err != nil || again.Hash != p.Hash {
		t.Fatalf("the same upload again: %+v %v", again, err)
	}
}

func TestOrientations(t *testing.T) {
	src := testImage(3, 2)               // red at (0,0)
	for o, want := range map[int][3]int{ // width, height, where the red corner goes (x, y packed as x*10+y)
		1: {3, 2, 0}, 2: {3, 2, 20}, 3: {3, 2, 21}, 4: {3, 2, 1}, 5: {2, 3, 0}, 6: {2, 3, 10}, 7: {2, 3, 12}, 8: {2, 3, 2},
	} {
		img := orient(src, o)
		b := img.Bounds()
		if b.Dx() != want[0] || b.Dy() != want[1] {
			t.Errorf("orientation %d: %v", o, b)
			continue
		}
		x, y := want[2]/10, want[2]%10
		if r, _, _, _ := img.At(x, y).RGBA(); r>>8 != 255 {
			t.Errorf("orientation %d: red corner not at (%d,%d)", o, x, y)
		}
	}
}

// TestSavePhotoRefuses: what is not a photo, what is not what it claims,
// what declares too many pixels, what is too big; nothing is stored.
func TestSavePhotoRefuses(t *testing.T) {
	s, _ := keyWorld(t)
	var pngBuf, gifBuf bytes.Buffer
	png.Encode(&pngBuf, testImage(8, 8))
	gif.Encode(&gifBuf, testImage(8, 8), nil)
	for _, tc := range []struct {
		name, declared string
		body           []byte
		kind           apperr.Kind
		reason         string
	}{
		{"HTML named .jpg", DeclaredType("", "photo.jpg"), []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), apperr.Invalid, "文件不是照片（内容为HTML 网页）"},
		{"HTML undeclared", "", []byte("<html><body>hi</body></html>"), apperr.Invalid, "文件不是照片"},
		{"SVG", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`), apperr.Invalid, "文件不是照片"},
		{"GIF", "image/gif", gifBuf.Bytes(), apperr.Invalid, "不接受 GIF"},
		{"GIF named .jpg", "image/jpeg", gifBuf.Bytes(), apperr.Invalid, "不接受 GIF"},
		{"PNG declared as JPEG", "image/jpeg", pngBuf.Bytes(), apperr.Invalid, "文件声明为JPEG，内容却是PNG"},
		{"JPEG declared as HTML", "text/html", jpegOf(t, testImage(8, 8)), apperr.Invalid, "文件声明为HTML 网页，内容却是JPEG"},
		{"bomb: 100000×100000", "image/png", pngHeader(100000, 100000), apperr.Invalid, "照片尺寸 100000×100000 超出限制"},
		{"too many pixels: 9000×9000", "image/png", pngHeader(9000, 9000), apperr.Invalid, "超出限制"},
		{"too long a side: 12000×10", "image/png", pngHeader(12000, 10), apperr.Invalid, "超出限制"},
		{"truncated JPEG", "image/jpeg", jpegOf(t, testImage(64, 64))[:300], apperr.Invalid, "照片已损坏"},
		{"empty", "", nil, apperr.Invalid, "照片为空"},
		{"over 10 MB", "", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, MaxPhoto)...), apperr.TooLarge, "照片不能超过10MB"},
	} {
		_, err := s.SavePhoto(bytes.NewReader(tc.body), tc.declared)
		if !apperr.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.kind, tc.reason)
		}
	}
	left, _ := filepath.Glob(filepath.Join(s.cfg.PhotoDir, "*", "*"))
	tmp, _ := filepath.Glob(filepath.Join(s.cfg.PhotoDir, ".upload-*"))
	if len(left)+len(tmp) != 0 {
		t.Fatalf("refused uploads left files: %v %v", left, tmp)
	}
	// A PNG is taken, stored as a JPEG; transparency goes on white.
	clear := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	var cb bytes.Buffer
	png.Encode(&cb, clear)
	p, err := s.SavePhoto(bytes.NewReader(cb.Bytes()), DeclaredType("", "shot.PNG"))
	if err != nil || p.Type != "image/jpeg" {
		t.Fatalf("a PNG: %+v %v", p, err)
	}
	img, _ := jpeg.Decode(bytes.NewReader(storedPhoto(t, s, p)))
	if r, g, b, _ := img.At(1, 1).RGBA(); r>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
		t.Errorf("a transparent PNG stored as %v, want white", img.At(1, 1))
	}
}

// TestSavePhotoWebP: WebP photos (some phones' default) are taken.
func TestSavePhotoWebP(t *testing.T) {
	s, _ := keyWorld(t)
	// A 1×1 lossless WebP.
	webp := []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	p, err := s.SavePhoto(bytes.NewReader(webp), DeclaredType("image/webp", "a.webp"))
	if err != nil || p.Type != "image/jpeg" {
		t.Fatalf("%+v %v", p, err)
	}
}

// TestOldPhotosStillServed: a photo stored before uploads were decoded
// (a GIF, kept as it came) is still found, opened and attached with its type.
func TestOldPhotosStillServed(t *testing.T) {
	s, _ := keyWorld(t)
	var b bytes.Buffer
	gif.Encode(&b, testImage(4, 4), nil)
	sum := sha256.Sum256(b.Bytes())
	hash := hex.EncodeToString(sum[:])
	os.MkdirAll(filepath.Dir(s.photoPath(hash)), 0o755)
	if err := os.WriteFile(s.photoPath(hash), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := s.OpenPhoto(hash)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := s.resolvePhotos([]cases.Photo{{Hash: hash}})
	if err != nil || len(got) != 1 || got[0].Type != "image/gif" || got[0].Size != int64(b.Len()) {
		t.Fatalf("%+v %v", got, err)
	}
}
