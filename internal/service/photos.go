package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// MaxPhoto is the largest photo accepted, in bytes.
const MaxPhoto = 10 << 20

var photoTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "image/gif": true}

// SavePhoto stores an uploaded photo by the SHA-256 of its content, after
// checking its type from its bytes (not from what the client claims) and its
// size. Storing the same photo twice keeps one file.
func (s *Service) SavePhoto(r io.Reader) (cases.Photo, error) {
	if s.cfg.PhotoDir == "" {
		return cases.Photo{}, errors.New("photo directory not configured")
	}
	tmp, err := os.CreateTemp(s.cfg.PhotoDir, ".upload-*")
	if err != nil {
		if err := os.MkdirAll(s.cfg.PhotoDir, 0o755); err != nil {
			return cases.Photo{}, fmt.Errorf("photo dir: %w", err)
		}
		if tmp, err = os.CreateTemp(s.cfg.PhotoDir, ".upload-*"); err != nil {
			return cases.Photo{}, fmt.Errorf("photo temp: %w", err)
		}
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return cases.Photo{}, fmt.Errorf("read photo: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return cases.Photo{}, apperr.Field("photo", "照片为空")
	}
	typ := http.DetectContentType(head)
	if !photoTypes[typ] {
		return cases.Photo{}, apperr.Field("photo", "只接受 JPEG、PNG、WebP 或 GIF 图片")
	}
	w := io.MultiWriter(tmp, h)
	if _, err := w.Write(head); err != nil {
		return cases.Photo{}, fmt.Errorf("write photo: %w", err)
	}
	size, err := io.Copy(w, io.LimitReader(r, MaxPhoto-int64(n)+1))
	if err != nil {
		return cases.Photo{}, fmt.Errorf("write photo: %w", err)
	}
	size += int64(n)
	if size > MaxPhoto {
		return cases.Photo{}, apperr.Field("photo", fmt.Sprintf("照片不能超过%dMB", MaxPhoto>>20))
	}
	if err := tmp.Sync(); err != nil {
		return cases.Photo{}, fmt.Errorf("sync photo: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst := s.photoPath(sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return cases.Photo{}, fmt.Errorf("photo dir: %w", err)
	}
	if _, err := os.Stat(dst); err != nil {
		if err := os.Rename(tmp.Name(), dst); err != nil {
			return cases.Photo{}, fmt.Errorf("store photo: %w", err)
		}
		if d, err := os.Open(filepath.Dir(dst)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return cases.Photo{Hash: sum, Type: typ, Size: size}, nil
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
		p.URL = s.PhotoURL(p.Hash)
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
