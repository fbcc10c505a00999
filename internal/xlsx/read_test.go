package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// book zips the given parts into a workbook.
func book(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, body := range parts {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

func sample(sheetPath, target string) map[string]string {
	return map[string]string{
		"xl/workbook.xml": `<?xml version="1.0"?><workbook ` + ns + `><sheets><sheet name="企业" sheetId="1" r:id="rId7"/><sheet name="其他" sheetId="2" r:id="rId8"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId8" Type="worksheet" Target="worksheets/other.xml"/><Relationship Id="rId7" Type="worksheet" Target="` + target + `"/></Relationships>`,
		"xl/sharedStrings.xml": `<?xml version="1.0"?><sst ` + ns + `><si><t>企业名称</t></si><si><t>统一社会信用代码</t></si>` +
			`<si><r><t>重庆</t></r><r><rPr><b/></rPr><t>某某科技有限公司</t></r></si></sst>`,
		sheetPath: `<?xml version="1.0"?><worksheet ` + ns + `><sheetData>` +
			`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>` +
			`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="inlineStr"><is><t>91500103MA5U000000</t></is></c><c r="D2"><v>12.5</v></c><c r="E2" t="b"><v>1</v></c></row>` +
			`<row r="4"><c r="B4" t="str"><f>A1</f><v>计算值</v></c></row>` +
			`<row r="6"><c r="A6"><v></v></c></row>` +
			`</sheetData></worksheet>`,
		"xl/worksheets/other.xml": `<?xml version="1.0"?><worksheet ` + ns + `><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>不读</t></is></c></row></sheetData></worksheet>`,
	}
}

func TestRead(t *testing.T) {
	for _, target := range []string{"worksheets/data.xml", "/xl/worksheets/data.xml"} {
		rows, err := Read(book(t, sample("xl/worksheets/data.xml", target)))
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"企业名称", "统一社会信用代码"},
			{"重庆某某科技有限公司", "91500103MA5U000000", "", "12.5", "TRUE"},
			nil,
			{"", "计算值"},
		}
		if !reflect.DeepEqual(rows, want) {
			t.Fatalf("target %s: rows\n%q\nwant\n%q", target, rows, want)
		}
	}
}

func TestReadRefuses(t *testing.T) {
	good := sample("xl/worksheets/data.xml", "worksheets/data.xml")
	for name, parts := range map[string]map[string]string{
		"no workbook": {"xl/worksheets/sheet1.xml": good["xl/worksheets/data.xml"]},
		"missing sheet": func() map[string]string {
			p := sample("xl/worksheets/data.xml", "worksheets/data.xml")
			delete(p, "xl/worksheets/data.xml")
			return p
		}(),
		"bad shared string index": func() map[string]string {
			p := sample("xl/worksheets/data.xml", "worksheets/data.xml")
			p["xl/worksheets/data.xml"] = strings.Replace(p["xl/worksheets/data.xml"], `<v>2</v>`, `<v>99</v>`, 1)
			return p
		}(),
		"bad cell reference": func() map[string]string {
			p := sample("xl/worksheets/data.xml", "worksheets/data.xml")
			p["xl/worksheets/data.xml"] = strings.Replace(p["xl/worksheets/data.xml"], `r="D2"`, `r="2D"`, 1)
			return p
		}(),
		"broken xml": func() map[string]string {
			p := sample("xl/worksheets/data.xml", "worksheets/data.xml")
			p["xl/worksheets/data.xml"] = `<worksheet><sheetData><row><c>`
			return p
		}(),
	} {
		if _, err := Read(book(t, parts)); err == nil {
			t.Errorf("%s: read", name)
		} else if !errors.Is(err, ErrNotWorkbook) {
			t.Errorf("%s: %v is not ErrNotWorkbook", name, err)
		}
	}
	if _, err := Read([]byte("name,code\n")); !errors.Is(err, ErrNotWorkbook) {
		t.Errorf("CSV read as a workbook: %v", err)
	}
	if IsXLSX([]byte("name,code")) || !IsXLSX(book(t, good)) {
		t.Error("IsXLSX")
	}
}

func TestColumn(t *testing.T) {
	for ref, want := range map[string]int{"A1": 0, "B7": 1, "Z9": 25, "AA1": 26, "AB10": 27} {
		if got, err := column(ref); err != nil || got != want {
			t.Errorf("column(%s) = %d, %v; want %d", ref, got, err, want)
		}
	}
	for _, bad := range []string{"", "1", "A", "a1", "A1B"} {
		if _, err := column(bad); err == nil {
			t.Errorf("column(%q) read", bad)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(book(f, sample("xl/worksheets/data.xml", "worksheets/data.xml")))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := Read(data) // never panics
		if err == nil && len(rows) > MaxRows {
			t.Fatalf("%d rows", len(rows))
		}
	})
}
