package enterprise

import (
	"reflect"
	"strings"
	"testing"

	"zhizhi/internal/xlsx/xlsxtest"
)

// workbook writes CSV text as an Excel workbook.
func workbook(t *testing.T, text string) []byte {
	t.Helper()
	return xlsxtest.FromCSV(text)
}

// TestReadFileExcel: an Excel workbook gives the same rows and the same
// problems as the CSV it holds; a broken workbook is one problem of the
// file.
func TestReadFileExcel(t *testing.T) {
	in := "企业名称,统一社会信用代码,地址,网格编码,楼宇,行业,规模,联系人,联系电话,联络员账号,街道领导账号,重点企业\n" +
		"甲公司,91350100m000100y43,企业天地1号楼,g1,1号楼,软件,小型,张三,13800000000,li,le,是\n" +
		",91350100M000100Y44,,g1,1号楼,软件,巨型,张三,abc,li,le,也许\n" +
		"乙公司,91350100M000100Y43,企业天地2号楼,g1,2号楼,软件,,李四,13800000001,li,le,\n"
	wantRows, wantProbs := ReadCSV(strings.NewReader(in))
	rows, probs := ReadFile(workbook(t, in))
	if !reflect.DeepEqual(rows, wantRows) || !reflect.DeepEqual(probs, wantProbs) {
		t.Fatalf("Excel:\n%+v\n%v\nCSV:\n%+v\n%v", rows, probs, wantRows, wantProbs)
	}
	if rows, probs := ReadFile([]byte(in)); !reflect.DeepEqual(rows, wantRows) || !reflect.DeepEqual(probs, wantProbs) {
		t.Fatal("CSV through ReadFile differs")
	}
	broken := workbook(t, in)[:200]
	if _, probs := ReadFile(broken); len(probs) != 1 || probs[0].Line != 0 || !strings.Contains(probs[0].Reason, "Excel") {
		t.Fatalf("a broken workbook: %v", probs)
	}
}
