package service

import (
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"os"
	"strings"
	"testing"
)

// TestThumbnails: a photo's thumbnail is a JPEG with its longest side
// ThumbSide, made once and kept next to the photo; a small photo is its
// own thumbnail; its address is the photo's, signed the same, with v=thumb.
func TestThumbnails(t *testing.T) {
	s, _ := keyWorld(t)
	big, err := s.SavePhoto(bytes.NewReader(jpegOf(t, testImage(1600, 1200))), "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.OpenThumb(big.Hash)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || format != "jpeg" || cfg.Width != ThumbSide || cfg.Height != ThumbSide*3/4 {
		t.Fatalf("thumbnail %s %dx%d: %v", format, cfg.Width, cfg.Height, err)
	}
	full, _ := os.Stat(s.photoPath(big.Hash))
	if int64(len(b))*5 > full.Size() {
		t.Errorf("thumbnail %d bytes of a %d-byte photo", len(b), full.Size())
	}
	// Kept: served again without the photo.
	if _, err := os.Stat(s.thumbPath(big.Hash)); err != nil {
		t.Fatalf("thumbnail not kept: %v", err)
	}
	if err := os.Rename(s.photoPath(big.Hash), s.photoPath(big.Hash)+".away"); err != nil {
		t.Fatal(err)
	}
	f, err = s.OpenThumb(big.Hash)
	if err != nil {
		t.Fatalf("kept thumbnail: %v", err)
	}
	again, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(again, b) {
		t.Error("the kept thumbnail differs")
	}
	os.Rename(s.photoPath(big.Hash)+".away", s.photoPath(big.Hash))
	// Portrait: the height is the longest side.
	tall, _ := s.SavePhoto(bytes.NewReader(jpegOf(t, testImage(600, 1000))), "image/jpeg")
	f, _ = s.OpenThumb(tall.Hash)
	if cfg, err := jpeg.DecodeConfig(f); err != nil || cfg.Height != ThumbSide || cfg.Width != 192 {
		t.Errorf("portrait thumbnail %dx%d %v", cfg.Width, cfg.Height, err)
	}
	f.Close()
	// A small photo is its own thumbnail.
	small, _ := s.SavePhoto(bytes.NewReader(jpegOf(t, testImage(200, 100))), "image/jpeg")
	f, _ = s.OpenThumb(small.Hash)
	sb, _ := io.ReadAll(f)
	f.Close()
	orig, _ := os.ReadFile(s.photoPath(small.Hash))
	if !bytes.Equal(sb, orig) {
		t.Error("a small photo's thumbnail is not the photo")
	}
	// Unknown and malformed hashes are not found.
	for _, h := range []string{strings.Repeat("0", 64), "../x"} {
		if _, err := s.OpenThumb(h); err == nil {
			t.Errorf("thumbnail of %q", h)
		}
	}
	// The address is the photo's signed address with v=thumb.
	if u := s.ThumbURL(big.Hash); u != s.PhotoURL(big.Hash)+"&v=thumb" {
		t.Errorf("thumb address %s", u)
	}
}
