package region

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// checkOutcome asserts what must hold for any input: either regions that
// pass validation in parent-first order, or an *ImportError with at least
// one problem and no regions.
func checkOutcome(t *testing.T, regions []Region, err error) {
	t.Helper()
	if err != nil {
		var ie *ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("not an *ImportError: %v", err)
		}
		if regions != nil || len(ie.Problems) == 0 {
			t.Fatalf("refusal with regions %v or without problems", regions)
		}
		for _, p := range ie.Problems {
			if p.Reason == "" || p.Row < 0 {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if ae := ie.AppErr(); len(ae.Fields) == 0 {
			t.Fatal("AppErr without fields")
		}
		return
	}
	if len(regions) == 0 {
		t.Fatal("success with no regions")
	}
	levels := map[string]Level{}
	for i, r := range regions {
		if i > 0 && r.Level.Rank() < regions[i-1].Level.Rank() {
			t.Fatalf("not parents first at %d", i)
		}
		parentLevel, ok := levels[r.ParentCode]
		if !ok {
			parentLevel, _ = stored(r.ParentCode)
		}
		if err := r.Validate(parentLevel); err != nil {
			t.Fatalf("accepted an invalid region %+v: %v", r, err)
		}
		levels[r.Code] = r.Level
	}
}

func FuzzParseGeoJSON(f *testing.F) {
	f.Add(fc(fStreet, fCommunity, fGrid))
	f.Add(fc(feat("500000", "重庆市", "city", "", ""), feat("500103", "渝中区", "区", "500000", squareGeom)))
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":500103001,"name":"x","level":"street","parent":"500103"}}]}`)
	f.Add(`{"type":"FeatureCollection","features":{}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		regions, err := ParseGeoJSON(strings.NewReader(in), stored)
		checkOutcome(t, regions, err)
		if err == nil {
			// What was accepted writes and reads back the same.
			var buf bytes.Buffer
			if err := WriteGeoJSON(&buf, regions); err != nil {
				t.Fatal(err)
			}
			again, err := ParseGeoJSON(&buf, stored)
			if err != nil || len(again) != len(regions) {
				t.Fatalf("round trip failed: %v", err)
			}
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add("code,name,level,parent_code\n500103001,示例街道,street,500103\n500103001001,示例社区,community,500103001\n")
	f.Add("\ufeff代码,名称,级别,上级代码\r\n500000,重庆市,市,\r\n")
	f.Add("code,name,level,parent_code\n\"500103001\",\"a\"\"b\",street,500103\n")
	f.Add("code,name\n1,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		regions, err := ParseCSV(strings.NewReader(in), stored)
		checkOutcome(t, regions, err)
		if err == nil {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, regions); err != nil {
				t.Fatal(err)
			}
			again, err := ParseCSV(&buf, stored)
			if err != nil || len(again) != len(regions) {
				t.Fatalf("round trip failed: %v", err)
			}
		}
	})
}
