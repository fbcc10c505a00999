package region

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
)

// stored is what the fake store already holds: Chongqing and Yuzhong.
func stored(code string) (Level, bool) {
	switch code {
	case "500000":
		return City, true
	case "500103":
		return District, true
	}
	return "", false
}

const squareGeom = `{"type":"Polygon","coordinates":[[[106.57,29.55],[106.58,29.55],[106.58,29.56],[106.57,29.55]]]}`

// feat builds a feature; parent "" leaves parent_code out, geom "" makes
// the geometry null.
func feat(code, name, level, parent, geom string) string {
	props := fmt.Sprintf(`"code":%q,"name":%q,"level":%q`, code, name, level)
	if parent != "" {
		props += fmt.Sprintf(`,"parent_code":%q`, parent)
	}
	if geom == "" {
		geom = "null"
	}
	return fmt.Sprintf(`{"type":"Feature","properties":{%s},"geometry":%s}`, props, geom)
}

func fc(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// A street, a community and a grid under stored Yuzhong.
var (
	fStreet    = feat("500103001", "示例街道", "street", "500103", "")
	fCommunity = feat("500103001001", "示例社区", "community", "500103001", "")
	fGrid      = feat("500103001001001", "第一网格", "grid", "500103001001", squareGeom)
)

type wantProblem struct {
	row    int
	field  string
	reason string // fragment
}

func checkProblems(t *testing.T, err error, want []wantProblem) {
	t.Helper()
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an *ImportError", err)
	}
	got := ie.Problems
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), dump(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Row != w.row || g.Field != w.field || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("problem %d = {%d %s %s}, want {%d %s …%s…}", i, g.Row, g.Field, g.Reason, w.row, w.field, w.reason)
		}
	}
}

func dump(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  {%d %s %s}\n", p.Row, p.Field, p.Reason)
	}
	return b.String()
}

func TestParseGeoJSONAccepts(t *testing.T) {
	in := fc(fGrid, fCommunity, fStreet) // children first: the result is reordered
	got, err := ParseGeoJSON(strings.NewReader(in), stored)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range got {
		codes = append(codes, r.Code)
	}
	if strings.Join(codes, ",") != "500103001,500103001001,500103001001001" {
		t.Errorf("order %v, want parents first", codes)
	}
	if g := got[2]; g.Level != Grid || g.Name != "第一网格" || g.ParentCode != "500103001001" || len(g.Shape) != 1 {
		t.Errorf("grid read as %+v", g)
	}

	// A whole tree from the root, with numeric codes, the parent alias,
	// Chinese level names, a MultiPolygon, and extra members to ignore.
	whole := `{"type":"FeatureCollection","name":"yuzhong","crs":{"type":"name"},"features":[
		{"type":"Feature","id":1,"properties":{"code":500000,"name":"重庆市","level":"市"},"geometry":null},
		{"type":"Feature","properties":{"code":"500103","name":"渝中区","level":"district","parent":"500000","note":"x"}},
		{"type":"Feature","properties":{"code":" 500103001 ","name":" 示例街道 ","level":"街道","parent_code":500103,"parent":"500103"},"geometry":null},
		{"type":"Feature","properties":{"code":"500103001001","name":"示例社区","level":"community","parent_code":"500103001"},
		 "geometry":{"type":"MultiPolygon","coordinates":[[[[106.57,29.55],[106.58,29.55],[106.58,29.56],[106.57,29.55]]],[[[106.6,29.5],[106.61,29.5],[106.61,29.51],[106.6,29.5]]]]}}
	]}`
	got, err = ParseGeoJSON(strings.NewReader(whole), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Code != "500000" || got[2].Code != "500103001" || got[2].Name != "示例街道" || len(got[3].Shape) != 2 {
		t.Errorf("got %+v", got)
	}
	// A stored region at the same level is an update, not a conflict.
	if _, err := ParseGeoJSON(strings.NewReader(fc(feat("500103", "渝中区", "district", "500000", ""))), stored); err != nil {
		t.Errorf("re-importing a stored district: %v", err)
	}
}

func TestParseGeoJSONRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []wantProblem
	}{
		{"empty file", ``, []wantProblem{{0, "", "文件为空"}}},
		{"broken JSON", `{"type":"FeatureCollection","features":[` + fStreet + `,{"type":`, []wantProblem{{2, "", "JSON"}}},
		{"syntax error", `{"type":"FeatureCollection" "features":[]}`, []wantProblem{{0, "", "JSON 格式错误"}}},
		{"NaN is not JSON", fc(feat("500103001", "示例街道", "street", "500103", `{"type":"Polygon","coordinates":[[[NaN,1],[1,1],[1,2],[NaN,1]]]}`)), []wantProblem{{1, "", "JSON 格式错误"}}},
		{"not an object", `[1,2,3]`, []wantProblem{{0, "", "FeatureCollection 对象"}}},
		{"wrong type", `{"type":"Feature","features":[` + fStreet + `]}`, []wantProblem{{0, "type", "实际是「Feature」"}}},
		{"missing type and features", `{}`, []wantProblem{{0, "type", "缺少 type"}, {0, "features", "缺少 features"}}},
		{"features not an array", `{"type":"FeatureCollection","features":{"a":[1]}}`, []wantProblem{{0, "features", "应为数组"}}},
		{"no features", fc(), []wantProblem{{0, "features", "没有任何要素"}}},
		{"trailing content", fc(fStreet) + `{}`, []wantProblem{{0, "", "多余内容"}}},
		{"feature not an object", fc(`42`, fStreet), []wantProblem{{1, "", "要素应为 JSON 对象"}}},
		{"feature wrong type", fc(strings.Replace(fStreet, `"Feature"`, `"Point"`, 1)), []wantProblem{{1, "type", "应为 Feature"}}},
		{"missing properties", fc(`{"type":"Feature","geometry":null}`), []wantProblem{{1, "properties", "缺少 properties"}}},
		{"properties not an object", fc(`{"type":"Feature","properties":[1],"geometry":null}`), []wantProblem{{1, "properties", "应为 JSON 对象"}}},
		{"missing code", fc(feat("", "示例街道", "street", "500103", "")), []wantProblem{{1, "properties.code", "缺少区划代码"}}},
		{"code not text", fc(`{"type":"Feature","properties":{"code":true,"name":"x","level":"street","parent_code":"500103"}}`),
			[]wantProblem{{1, "properties.code", "应为字符串"}}},
		{"fractional code", fc(`{"type":"Feature","properties":{"code":500103001.5,"name":"x","level":"street","parent_code":"500103"}}`),
			[]wantProblem{{1, "properties.code", "只能是整数"}}},
		{"name and level not text", fc(`{"type":"Feature","properties":{"code":"500103001","name":{},"level":[1],"parent_code":"500103"}}`),
			[]wantProblem{{1, "properties.name", "应为字符串"}, {1, "properties.level", "应为字符串"}}},
		{"bad code digits", fc(feat("50010300A", "示例街道", "street", "500103", "")), []wantProblem{{1, "properties.code", "只能由数字组成"}}},
		{"bad code length", fc(feat("5001030010", "示例街道", "street", "500103", "")), []wantProblem{{1, "properties.code", "应为 9 位数字"}}},
		{"code not under parent", fc(feat("500104001", "示例街道", "street", "500103", "")), []wantProblem{{1, "properties.parent_code", "应以上级代码 500103 开头"}}},
		{"district not under city", fc(feat("510104", "某区", "district", "500000", "")), []wantProblem{{1, "properties.parent_code", "前两位应与所属市"}}},
		{"unknown level", fc(feat("500103001", "示例街道", "town", "500103", "")), []wantProblem{{1, "properties.level", "未知级别「town」"}}},
		{"missing level", fc(`{"type":"Feature","properties":{"code":"500103001","name":"x","parent_code":"500103"}}`), []wantProblem{{1, "properties.level", "缺少级别"}}},
		{"missing name", fc(feat("500103001", "", "street", "500103", "")), []wantProblem{{1, "properties.name", "缺少名称"}}},
		{"parent missing", fc(feat("500106001", "某街道", "street", "500106", "")), []wantProblem{{1, "properties.parent_code", "既不在文件中，也不在系统中"}}},
		{"parent not given", fc(feat("500103001", "示例街道", "street", "", "")), []wantProblem{{1, "properties.parent_code", "缺少上级"}}},
		{"parent at the wrong level (stored)", fc(feat("500103001001", "示例社区", "community", "500103", "")), []wantProblem{{1, "properties.parent_code", "而社区(村)的上级应是街道(镇)"}}},
		{"parent at the wrong level (in file)", fc(fStreet, feat("500103001001001", "网格", "grid", "500103001", squareGeom)), []wantProblem{{2, "properties.parent_code", "上级 500103001 是街道(镇)"}}},
		{"city with a parent", fc(feat("510100", "成都市", "city", "500000", "")), []wantProblem{{1, "properties.parent_code", "不能有上级"}}},
		{"parent and alias disagree", fc(`{"type":"Feature","properties":{"code":"500103001","name":"x","level":"street","parent_code":"500103","parent":"500104"}}`), []wantProblem{{1, "properties.parent", "不一致"}}},
		{"duplicate code", fc(fStreet, fCommunity, fStreet), []wantProblem{{3, "properties.code", "与第 1 个要素重复"}}},
		{"stored at another level", fc(feat("500000", "重庆市", "district", "500000", "")), []wantProblem{{1, "properties.code", "最后两位不能是 00"}, {1, "properties.code", "已作为市存在，不能改为区(县)"}, {1, "properties.parent_code", "不能是自身"}}},
		{"stored code, other level", fc(feat("500103", "渝中区", "city", "", "")), []wantProblem{{1, "properties.code", "应以 00 结尾"}, {1, "properties.code", "已作为区(县)存在"}}},
		{"open ring", fc(feat("500103001", "示例街道", "street", "500103", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`)), []wantProblem{{1, "geometry.coordinates[0]", "未闭合"}}},
		{"too few points", fc(feat("500103001", "示例街道", "street", "500103", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`)), []wantProblem{{1, "geometry.coordinates[0]", "至少需要 4 个坐标"}}},
		{"longitude out of range", fc(feat("500103001", "示例街道", "street", "500103", `{"type":"Polygon","coordinates":[[[0,0],[200,0],[1,1],[0,0]]]}`)), []wantProblem{{1, "geometry.coordinates[0][1]", "经度 200 超出"}}},
		{"huge number", fc(feat("500103001", "示例街道", "street", "500103", `{"type":"Polygon","coordinates":[[[0,0],[1e999,0],[1,1],[0,0]]]}`)), []wantProblem{{1, "geometry.coordinates[0][1]", "数值过大"}}},
		{"point geometry", fc(feat("500103001", "示例街道", "street", "500103", `{"type":"Point","coordinates":[1,2]}`)), []wantProblem{{1, "geometry.type", "不支持的几何类型"}}},
		{"grid without shape", fc(fStreet, fCommunity, feat("500103001001001", "第一网格", "grid", "500103001001", "")), []wantProblem{{3, "geometry", "网格必须有边界"}}},
		{"every problem, not only the first", fc(
			feat("", "示例街道", "street", "500103", ""),
			feat("500103002", "", "town", "500103", ""),
			feat("500103003", "示例街道", "street", "500199", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`),
		), []wantProblem{
			{1, "properties.code", "缺少区划代码"},
			{2, "properties.level", "未知级别"},
			{2, "properties.name", "缺少名称"},
			{3, "geometry.coordinates[0]", "至少需要 4 个坐标"},
			{3, "properties.parent_code", "既不在文件中"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGeoJSON(strings.NewReader(tt.in), stored)
			if got != nil {
				t.Errorf("regions returned with an error: %v", got)
			}
			checkProblems(t, err, tt.want)
		})
	}
}

func TestParseCSVAccepts(t *testing.T) {
	in := "\ufeffcode,name,level,parent_code,备注\r\n" +
		"500103001001,示例社区,community,500103001,\r\n" +
		"500103001,\"示例街道, 东\",街道,500103,新设\r\n" +
		",,,,\r\n" + // Excel's trailing blank row
		"\r\n"
	got, err := ParseCSV(strings.NewReader(in), stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Code != "500103001" || got[0].Name != "示例街道, 东" || got[0].Level != Street || got[1].ParentCode != "500103001" {
		t.Errorf("got %+v", got)
	}
	// Columns in another order, Chinese headings, parent alias.
	in = "名称,级别,上级代码,代码\n重庆市,city,,500000\n渝中区,district,500000,500103\n"
	got, err = ParseCSV(strings.NewReader(in), nil)
	if err != nil || len(got) != 2 || got[1].Name != "渝中区" {
		t.Errorf("Chinese header: %+v, %v", got, err)
	}
	in = "code,name,level,parent\n500103001,示例街道,street,500103\n"
	if _, err := ParseCSV(strings.NewReader(in), stored); err != nil {
		t.Errorf("parent alias: %v", err)
	}
}

func TestParseCSVRefuses(t *testing.T) {
	const h = "code,name,level,parent_code\n"
	tests := []struct {
		name string
		in   string
		want []wantProblem
	}{
		{"empty file", "", []wantProblem{{0, "", "文件为空"}}},
		{"BOM only", "\ufeff", []wantProblem{{0, "", "文件为空"}}},
		{"header only", h, []wantProblem{{0, "", "没有任何区划"}}},
		{"broken CSV", h + "500103001,\"示例街道,street,500103\n", []wantProblem{{2, "", "双引号不成对"}}},
		{"bare quote", h + "500103001,示\"例,street,500103\n", []wantProblem{{2, "", "出现了双引号"}}},
		{"wrong header", "id,name,kind\n1,x,y\n", []wantProblem{{1, "", "表头缺少 code、level、parent_code 列"}}},
		{"repeated column", "code,name,level,parent_code,code\n", []wantProblem{{1, "", "code 列重复"}}},
		{"not UTF-8", h + "500103001,\xca\xbe\xc0\xfd,street,500103\n", []wantProblem{{2, "", "不是 UTF-8 编码"}}},
		{"wrong column count", h + "500103001,示例,街道,street,500103\n", []wantProblem{{2, "", "应有 4 列，实际为 5 列"}}},
		{"missing code", h + ",示例街道,street,500103\n", []wantProblem{{2, "code", "缺少区划代码"}}},
		{"bad code digits", h + "500103O01,示例街道,street,500103\n", []wantProblem{{2, "code", "只能由数字组成"}}},
		{"code not under parent", h + "500104001,示例街道,street,500103\n", []wantProblem{{2, "parent_code", "应以上级代码 500103 开头"}}},
		{"unknown level", h + "500103001,示例街道,town,500103\n", []wantProblem{{2, "level", "未知级别「town」"}}},
		{"parent missing", h + "500106001,某街道,street,500106\n", []wantProblem{{2, "parent_code", "既不在文件中，也不在系统中"}}},
		{"parent at the wrong level", h + "500103001001,示例社区,community,500103\n", []wantProblem{{2, "parent_code", "上级应是街道(镇)"}}},
		{"duplicate code", h + "500103001,示例街道,street,500103\n500103001,示例街道,street,500103\n", []wantProblem{{3, "code", "与第 2 行重复"}}},
		{"grid without shape", h + "500103001,示例街道,street,500103\n500103001001,示例社区,community,500103001\n500103001001001,第一网格,grid,500103001001\n",
			[]wantProblem{{4, "level", "网格必须有边界"}}},
		{"name with formula", h + "500103001,=1+1,street,500103\n", []wantProblem{{2, "name", "不能以 = + - @ 开头"}}},
		{"line numbers count quoted newlines", h + "500103001,\"示例\n街道\",street,500103\n500103002,,street,500103\n",
			[]wantProblem{{2, "name", "控制字符"}, {4, "name", "缺少名称"}}},
		{"every problem", h + "500103001,,street,500103\n5001,示例,street,500103\n500103003,示例,town,500103\n",
			[]wantProblem{{2, "name", "缺少名称"}, {3, "code", "应为 9 位数字"}, {4, "level", "未知级别"}}},
		// Every problem of one row, not only the first: an unknown level
		// does not hide the code's or the parent's.
		{"every problem of a row", h + "5001O3,,town,500199\n50010300,示例,,500103\n,=x,city,500000\n",
			[]wantProblem{{2, "level", "未知级别「town」"}, {2, "name", "缺少名称"}, {2, "code", "只能由数字组成"}, {2, "parent_code", "500199 既不在文件中"},
				{3, "level", "缺少级别"}, {3, "code", "应为 6、9、12 或 15 位数字，实际为 8 位"},
				{4, "name", "不能以 = + - @ 开头"}, {4, "code", "缺少区划代码"}, {4, "parent_code", "市级区划是树的根"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCSV(strings.NewReader(tt.in), stored)
			if got != nil {
				t.Errorf("regions returned with an error: %v", got)
			}
			checkProblems(t, err, tt.want)
		})
	}
}

func TestImportErrorAppErr(t *testing.T) {
	_, err := ParseGeoJSON(strings.NewReader(fc(fStreet, feat("500103002", "x", "street", "500199", ""))), stored)
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v", err)
	}
	ae := ie.AppErr()
	if ae.Kind != apperr.Invalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "features[1].properties.parent_code" {
		t.Errorf("AppErr = %+v", ae)
	}
	if !strings.Contains(ae.Message, "1 处问题") || !errors.Is(ae, err) {
		t.Errorf("message %q / cause not kept", ae.Message)
	}
	_, err = ParseCSV(strings.NewReader("code,name,level,parent_code\n500103001,示例街道,street,500199\n"), stored)
	if !errors.As(err, &ie) || ie.AppErr().Fields[0].Field != "rows[2].parent_code" {
		t.Errorf("CSV field path: %v", err)
	}
	_, err = ParseGeoJSON(strings.NewReader(`{"type":"Topology","features":[]}`), stored)
	if !errors.As(err, &ie) || ie.AppErr().Fields[0].Field != "type" {
		t.Errorf("file-level field path: %v", err)
	}
	_, err = ParseCSV(strings.NewReader(""), stored)
	if !errors.As(err, &ie) || ie.AppErr().Fields[0].Field != "file" || !strings.Contains(ie.Error(), "文件为空") {
		t.Errorf("whole-file field path: %v", err)
	}
}

func TestManyProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("code,name,level,parent_code\n")
	for i := 0; i < MaxProblems+500; i++ {
		fmt.Fprintf(&b, "x%d,,town,\n", i) // three problems a row: name, code and level
	}
	_, err := ParseCSV(strings.NewReader(b.String()), nil)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Problems) != MaxProblems || ie.Omitted != 3*(MaxProblems+500)-MaxProblems {
		t.Fatalf("got %d problems, %d omitted", len(ie.Problems), ie.Omitted)
	}
	if !strings.Contains(ie.AppErr().Message, "仅列出前 1000 处") {
		t.Errorf("message %q", ie.AppErr().Message)
	}
}

func TestReaderErrorsPassThrough(t *testing.T) {
	boom := errors.New("too large")
	r := &failingReader{data: []byte(fc(fStreet, fCommunity)[:40]), err: boom}
	if _, err := ParseGeoJSON(r, stored); !errors.Is(err, boom) {
		t.Errorf("GeoJSON: got %v, want the reader's error", err)
	}
	r = &failingReader{data: []byte("code,name,level,parent_code\n500103001,示"), err: boom}
	if _, err := ParseCSV(r, stored); !errors.Is(err, boom) {
		t.Errorf("CSV: got %v, want the reader's error", err)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// sampleTree is a small tree under Chongqing with shapes.
func sampleTree() []Region {
	sq := func(x, y float64) geo.MultiPolygon {
		return geo.MultiPolygon{{ring(x, y, x+0.01, y, x+0.01, y+0.01, x, y+0.01, x, y)}}
	}
	return []Region{
		{"500000", "重庆市", City, "", nil},
		{"500103", "渝中区", District, "500000", sq(106.5, 29.5)},
		{"500103001", "示例街道", Street, "500103", nil},
		{"500103002", "另一街道, \"东\"", Street, "500103", nil},
		{"500103001001", "示例社区", Community, "500103001", nil},
		{"500103001001001", "第一网格", Grid, "500103001001", sq(106.51, 29.51)},
		{"500103001001002", "第二网格", Grid, "500103001001", geo.MultiPolygon{sq(106.52, 29.51)[0], sq(106.54, 29.51)[0]}},
	}
}

func TestGeoJSONRoundTrip(t *testing.T) {
	want := sampleTree()
	var buf bytes.Buffer
	if err := WriteGeoJSON(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := ParseGeoJSON(&buf, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(got) != len(want) {
		t.Fatalf("got %d regions, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameRegion(got[i], want[i], true) {
			t.Errorf("region %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if err := WriteGeoJSON(&buf, []Region{{Code: "x", Shape: geo.MultiPolygon{{ring(nan(), 0)}}}}); err == nil {
		t.Error("a NaN shape must not be written")
	}
}

func TestCSVRoundTrip(t *testing.T) {
	var want []Region
	for _, r := range sampleTree() {
		if r.Level != Grid {
			r.Shape = nil
			want = append(want, r)
		}
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), utf8BOM) {
		t.Error("no BOM for Excel")
	}
	got, err := ParseCSV(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d regions, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameRegion(got[i], want[i], false) {
			t.Errorf("region %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func sameRegion(a, b Region, shapes bool) bool {
	if a.Code != b.Code || a.Name != b.Name || a.Level != b.Level || a.ParentCode != b.ParentCode {
		return false
	}
	if !shapes {
		return true
	}
	ja, _ := geo.EncodeGeometry(a.Shape)
	jb, _ := geo.EncodeGeometry(b.Shape)
	return string(ja) == string(jb)
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestLargeImport(t *testing.T) {
	// 62,000 grids in one file: the stream reader must cope.
	entries := geo.SyntheticGrids(62000, 1, geo.Point{Lng: 106.5, Lat: 29.5})
	regions := []Region{}
	streets := map[string]bool{}
	communities := map[string]bool{}
	for _, e := range entries {
		street, community := e.Code[:9], e.Code[:12]
		if !streets[street] {
			streets[street] = true
			regions = append(regions, Region{street, "街道" + street, Street, "500103", nil})
		}
		if !communities[community] {
			communities[community] = true
			regions = append(regions, Region{community, "社区" + community, Community, street, nil})
		}
		regions = append(regions, Region{e.Code, "网格" + e.Code, Grid, community, e.Shape})
	}
	var buf bytes.Buffer
	if err := WriteGeoJSON(&buf, regions); err != nil {
		t.Fatal(err)
	}
	got, err := ParseGeoJSON(&buf, stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(regions) {
		t.Fatalf("got %d regions, want %d", len(got), len(regions))
	}
	if _, err := BuildPaths(append([]Region{{Code: "500000", Level: City}, {Code: "500103", Level: District, ParentCode: "500000"}}, got...)); err != nil {
		t.Fatal(err)
	}
}
