package web

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"zhizhi/internal/apperr"
	"zhizhi/internal/service"
)

// sensorImport imports devices from an uploaded Excel workbook or CSV: all
// or none, every problem of every row listed on the page.
func (c *Console) sensorImport(w http.ResponseWriter, r *http.Request) error {
	file, _, err := r.FormFile("file")
	if err != nil {
		return apperr.Field("file", "请选择 Excel（.xlsx）或 CSV 文件")
	}
	defer file.Close()
	raw, err := io.ReadAll(io.LimitReader(file, service.MaxDeviceImportBytes+1))
	if err != nil {
		return err
	}
	if len(raw) > service.MaxDeviceImportBytes {
		return apperr.BodyTooLarge(service.MaxDeviceImportBytes)
	}
	n, probs, err := c.svc.ImportDevices(r.Context(), actorOf(r), bytes.NewReader(raw))
	if err == nil {
		http.Redirect(w, r, "/sensors/admin?imported="+strconv.Itoa(n)+"#import", http.StatusSeeOther)
		return nil
	}
	if len(probs) == 0 {
		return err // a problem of the whole file, or not the caller's to do
	}
	p, perr := c.sensorAdminOf(r, nil, nil)
	if perr != nil {
		return perr
	}
	p.Problems = probs
	c.render(w, r, http.StatusBadRequest, "sensors.admin", p)
	return nil
}
