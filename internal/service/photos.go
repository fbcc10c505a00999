package service

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png" // decodes uploaded PNG photos
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/webp" // decodes uploaded WebP photos

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// MaxPhoto is the largest photo accepted, in bytes, as uploaded.
const MaxPhoto = 10 << 20

// Limits on a photo's pixels, checked from its header before it is decoded,
// so that a small file declaring a huge image (a decompression bomb) is
// refused without the memory its pixels would take.
const (
	MaxPhotoSide   = 10000      // pixels, either side
	MaxPhotoPixels = 40_000_000 // pixels in all (a 40-megapixel camera)
)

// photoQuality is the JPEG quality photos are stored at.
const photoQuality = 85

// photoTypes are the types an upload may be, by its content: photos, which
// are decoded and stored again as JPEG. GIF (animations, never a photo of a
// case), SVG and HTML are refused.
var photoTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true}

// decodeSlots bounds the photos decoded at once: a 40-megapixel photo takes
// about 160 MB while it is decoded and encoded again.
var decodeSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// DeclaredType is the type a client claims for an upload: its Content-Type
// when that names one (a multipart part's or the request's), otherwise what
// its file name's extension stands for; "" when it claims nothing.
func DeclaredType(contentType, filename string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "" && mt != "application/octet-stream" {
		return mt
	}
	switch strings.ToLower(filepath.Ext(filename)) {
	case "":
		return ""
	case ".jpg", ".jpeg", ".jfif":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".svg":
		return "image/svg+xml"
	case ".html", ".htm":
		return "text/html"
	}
	return mime.TypeByExtension(filepath.Ext(filename))
}

// typeNames names types in messages.
var typeNames = map[string]string{"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF",
	"image/svg+xml": "SVG", "text/html": "HTML 网页", "text/xml": "XML", "text/plain": "文本"}

func typeName(t string) string {
	t, _, _ = strings.Cut(t, ";")
	if n, ok := typeNames[t]; ok {
		return n
	}
	return t
}

// SavePhoto is the one way a photo enters zhizhi, from every door. It checks
// the upload's size, its type from its bytes (and against declared, the type
// the client claimed, when it claimed one: see DeclaredType), its pixel
// dimensions from its header before decoding it, decodes it (with the JPEG
// orientation applied) and stores it again as a JPEG, which drops every
// metadata segment the upload carried (EXIF with the GPS position of a
// resident's home, comments, colour profiles). The file is stored by the
// SHA-256 of the stored JPEG; storing the same photo twice keeps one file.
// Photos stored before this check keep being served as they are.
func (s *Service) SavePhoto(r io.Reader, declared string) (cases.Photo, error) {
	if s.cfg.PhotoDir == "" {
		return cases.Photo{}, errors.New("photo directory not configured")
	}
	in, err := s.photoTemp()
	if err != nil {
		return cases.Photo{}, err
	}
	defer os.Remove(in.Name())
	defer in.Close()
	size, err := io.Copy(in, io.LimitReader(r, MaxPhoto+1))
	if err != nil {
		return cases.Photo{}, fmt.Errorf("read photo: %w", err)
	}
	if size == 0 {
		return cases.Photo{}, apperr.Field("photo", "照片为空")
	}
	if size > MaxPhoto {
		return cases.Photo{}, apperr.Newf(apperr.TooLarge, "照片不能超过%dMB", MaxPhoto>>20)
	}
	head := make([]byte, 512)
	n, _ := in.ReadAt(head, 0)
	typ := http.DetectContentType(head[:n])
	if err := photoTypeProblem(typ, declared); err != nil {
		return cases.Photo{}, err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return cases.Photo{}, err
	}
	cfg, _, err := image.DecodeConfig(bufio.NewReader(in))
	if err != nil {
		return cases.Photo{}, apperr.Field("photo", "照片已损坏，无法读取")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxPhotoSide || cfg.Height > MaxPhotoSide ||
		int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return cases.Photo{}, apperr.Field("photo", fmt.Sprintf("照片尺寸 %d×%d 超出限制（每边不超过%d像素、合计不超过%d万像素）",
			cfg.Width, cfg.Height, MaxPhotoSide, MaxPhotoPixels/10000))
	}
	orientation := 1
	if typ == "image/jpeg" {
		orientation = jpegOrientation(io.NewSectionReader(in, 0, size))
	}
	select {
	case decodeSlots <- struct{}{}:
	case <-time.After(30 * time.Second):
		return cases.Photo{}, apperr.New(apperr.TooMany, "正在处理的照片过多，请稍后重试")
	}
	defer func() { <-decodeSlots }()
	img, _, err := image.Decode(bufio.NewReader(io.NewSectionReader(in, 0, size)))
	if err != nil {
		return cases.Photo{}, apperr.Field("photo", "照片已损坏，无法读取")
	}
	img = flatten(orient(img, orientation))

	out, err := s.photoTemp()
	if err != nil {
		return cases.Photo{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	h := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(out, h))
	if err := jpeg.Encode(bw, img, &jpeg.Options{Quality: photoQuality}); err != nil {
		return cases.Photo{}, fmt.Errorf("encode photo: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return cases.Photo{}, fmt.Errorf("write photo: %w", err)
	}
	st, err := out.Stat()
	if err != nil {
		return cases.Photo{}, err
	}
	if err := out.Sync(); err != nil {
		return cases.Photo{}, fmt.Errorf("sync photo: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst := s.photoPath(sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return cases.Photo{}, fmt.Errorf("photo dir: %w", err)
	}
	if _, err := os.Stat(dst); err != nil {
		if err := os.Rename(out.Name(), dst); err != nil {
			return cases.Photo{}, fmt.Errorf("store photo: %w", err)
		}
		if d, err := os.Open(filepath.Dir(dst)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return cases.Photo{Hash: sum, Type: "image/jpeg", Size: st.Size()}, nil
}

// photoTemp makes a temporary file beside the photos (so a stored photo is
// renamed into place, never copied).
func (s *Service) photoTemp() (*os.File, error) {
	tmp, err := os.CreateTemp(s.cfg.PhotoDir, ".upload-*")
	if err != nil {
		if err := os.MkdirAll(s.cfg.PhotoDir, 0o755); err != nil {
			return nil, fmt.Errorf("photo dir: %w", err)
		}
		if tmp, err = os.CreateTemp(s.cfg.PhotoDir, ".upload-*"); err != nil {
			return nil, fmt.Errorf("photo temp: %w", err)
		}
	}
	return tmp, nil
}

// photoTypeProblem refuses an upload whose content is not a photo, or whose
// content is not what the client declared it to be.
func photoTypeProblem(typ, declared string) error {
	if declared == "image/jpg" || declared == "image/pjpeg" {
		declared = "image/jpeg"
	}
	switch {
	case typ == "image/gif":
		return apperr.Field("photo", "不接受 GIF 动图，请上传 JPEG、PNG 或 WebP 照片")
	case !photoTypes[typ]:
		return apperr.Field("photo", "文件不是照片（内容为"+typeName(typ)+"），只接受 JPEG、PNG 或 WebP 照片")
	case declared != "" && declared != typ:
		return apperr.Field("photo", "文件声明为"+typeName(declared)+"，内容却是"+typeName(typ)+"，请上传原始照片")
	}
	return nil
}

// flatten puts an image with transparency on white, as JPEG has no alpha
// (transparent pixels would turn black).
func flatten(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.White, image.Point{}, draw.Src)
	draw.Draw(dst, b, img, b.Min, draw.Over)
	return dst
}

func (s *Service) photoPath(hash string) string {
	return filepath.Join(s.cfg.PhotoDir, hash[:2], hash)
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// OpenPhoto opens a stored photo for reading.
func (s *Service) OpenPhoto(hash string) (*os.File, error) {
	if !validHash(hash) {
		return nil, apperr.New(apperr.NotFound, "照片不存在")
	}
	f, err := os.Open(s.photoPath(hash))
	if errors.Is(err, os.ErrNotExist) {
		return nil, apperr.New(apperr.NotFound, "照片不存在")
	}
	return f, err
}

// resolvePhotos checks that every referenced photo was uploaded and fills in
// its type and size from the stored file, so a client cannot make claims
// about a photo that the file does not back.
func (s *Service) resolvePhotos(in []cases.Photo) ([]cases.Photo, error) {
	var f apperr.Fields
	out := make([]cases.Photo, 0, len(in))
	for i, p := range in {
		field := fmt.Sprintf("photos[%d]", i)
		if !validHash(p.Hash) {
			f.Add(field, "照片编号无效")
			continue
		}
		file, err := os.Open(s.photoPath(p.Hash))
		if err != nil {
			f.Add(field, "照片未上传")
			continue
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(file, head)
		st, err := file.Stat()
		file.Close()
		if err != nil {
			return nil, fmt.Errorf("stat photo: %w", err)
		}
		out = append(out, cases.Photo{Hash: p.Hash, Type: http.DetectContentType(head[:n]), Size: st.Size()})
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Photos are served only through signed addresses (issue 20): a page or an
// API answer that shows a case to someone who may see it signs the address
// of each of its photos, and the photo route serves a photo only with a
// good signature that has not expired. Knowing a photo's hash is no longer
// enough to fetch it. The signature is an HMAC of the hash and the expiry
// under a key derived from the installation's key (shared by every node).
// Expiries fall on a 12-hour grid, so one photo's address stays the same
// for 12 hours and browsers can cache it; an address is good for 12 to 24
// hours after it was given out.
const photoURLStep = 12 * time.Hour

// photoExpiry is the expiry of the addresses given out at now.
func photoExpiry(now time.Time) int64 {
	step := int64(photoURLStep / time.Second)
	return (now.Unix()/step + 2) * step
}

func (s *Service) photoSig(hash string, exp int64) string {
	m := hmac.New(sha256.New, s.photoKey)
	fmt.Fprintf(m, "photo:%s:%d", hash, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// PhotoURL is the signed address of a stored photo. Call it only for a
// photo of something the reader may see.
func (s *Service) PhotoURL(hash string) string {
	exp := photoExpiry(s.Now())
	return "/api/v1/photos/" + hash + "?e=" + strconv.FormatInt(exp, 10) + "&s=" + s.photoSig(hash, exp)
}

// CheckPhotoURL says whether the expiry and signature of a photo's address
// are good now.
func (s *Service) CheckPhotoURL(hash, e, sig string) error {
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || sig == "" || !validHash(hash) {
		return apperr.New(apperr.NotFound, "照片不存在或链接无效")
	}
	if s.Now().Unix() >= exp {
		return apperr.New(apperr.NotFound, "照片链接已过期，请刷新页面")
	}
	if !hmac.Equal([]byte(sig), []byte(s.photoSig(hash, exp))) {
		return apperr.New(apperr.NotFound, "照片不存在或链接无效")
	}
	return nil
}

// signPhotos returns a copy of ps with each photo's signed address.
func (s *Service) signPhotos(ps []cases.Photo) []cases.Photo {
	if len(ps) == 0 {
		return ps
	}
	out := make([]cases.Photo, len(ps))
	for i, p := range ps {
		p.URL, p.ThumbURL = s.PhotoURL(p.Hash), s.ThumbURL(p.Hash)
		out[i] = p
	}
	return out
}

// WithPhotoURLs returns the case with the signed address of every photo it
// carries (its report's and its tasks' feedback), for an answer to someone
// who may see it. The case given is not changed.
func (s *Service) WithPhotoURLs(c cases.Case) cases.Case {
	c.Photos = s.signPhotos(c.Photos)
	if len(c.Tasks) > 0 {
		tasks := make([]cases.Task, len(c.Tasks))
		for i, t := range c.Tasks {
			t.Photos = s.signPhotos(t.Photos)
			tasks[i] = t
		}
		c.Tasks = tasks
	}
	return c
}

// StepsWithPhotoURLs does the same for a timeline.
func (s *Service) StepsWithPhotoURLs(steps []cases.Step) []cases.Step {
	out := make([]cases.Step, len(steps))
	for i, st := range steps {
		st.Photos = s.signPhotos(st.Photos)
		out[i] = st
	}
	return out
}
