package service

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"time"

	xdraw "golang.org/x/image/draw"

	"zhizhi/internal/apperr"
)

// Thumbnails: lists and timelines show a photo downscaled so that its
// longest side is ThumbSide pixels, as a JPEG, instead of the full photo.
// A thumbnail is made the first time it is asked for and kept on disk next
// to its photo (PHOTOS/ab/HASH.thumb.jpg), so every node sharing the photo
// directory makes it at most once (two nodes racing both write the same
// bytes and the rename is atomic). Its address is the photo's signed
// address with v=thumb: the same signature, since a thumbnail shows no more
// than the photo it comes from.

// ThumbSide is the longest side of a thumbnail, in pixels.
const ThumbSide = 320

// thumbQuality is the JPEG quality of thumbnails.
const thumbQuality = 75

// ThumbURL is the signed address of a photo's thumbnail.
func (s *Service) ThumbURL(hash string) string { return s.PhotoURL(hash) + "&v=thumb" }

func (s *Service) thumbPath(hash string) string { return s.photoPath(hash) + ".thumb.jpg" }

// OpenThumb opens a photo's thumbnail, making and keeping it the first
// time. A photo no larger than a thumbnail is its own thumbnail.
func (s *Service) OpenThumb(hash string) (*os.File, error) {
	if !validHash(hash) {
		return nil, apperr.New(apperr.NotFound, "照片不存在")
	}
	if f, err := os.Open(s.thumbPath(hash)); err == nil {
		return f, nil
	}
	src, err := s.OpenPhoto(hash)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bufio.NewReader(src))
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("photo %s: %w", hash, err)
	}
	if cfg.Width <= ThumbSide && cfg.Height <= ThumbSide {
		if _, err := src.Seek(0, 0); err != nil {
			src.Close()
			return nil, err
		}
		return src, nil
	}
	if err := s.makeThumb(src, hash, cfg); err != nil {
		src.Close()
		return nil, err
	}
	src.Close()
	return os.Open(s.thumbPath(hash))
}

func (s *Service) makeThumb(src *os.File, hash string, cfg image.Config) error {
	select {
	case decodeSlots <- struct{}{}:
	case <-time.After(30 * time.Second):
		return apperr.New(apperr.TooMany, "正在处理的照片过多，请稍后重试")
	}
	defer func() { <-decodeSlots }()
	if _, err := src.Seek(0, 0); err != nil {
		return err
	}
	img, _, err := image.Decode(bufio.NewReader(src))
	if err != nil {
		return fmt.Errorf("photo %s: %w", hash, err)
	}
	w, h := cfg.Width, cfg.Height
	if w >= h {
		w, h = ThumbSide, max(1, h*ThumbSide/w)
	} else {
		w, h = max(1, w*ThumbSide/h), ThumbSide
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), flatten(img), img.Bounds(), xdraw.Src, nil)
	out, err := s.photoTemp()
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	bw := bufio.NewWriter(out)
	if err := jpeg.Encode(bw, dst, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return fmt.Errorf("encode thumbnail: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	dstPath := s.thumbPath(hash)
	if err := os.MkdirAll(filepath.Dir(dstPath), 0o755); err != nil {
		return err
	}
	if err := os.Rename(out.Name(), dstPath); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("store thumbnail: %w", err)
	}
	return nil
}
