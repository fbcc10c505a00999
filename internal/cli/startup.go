package cli

import (
	"fmt"
	"io"
	"strings"

	"zhizhi/internal/demo"
)

// startup is what a serving node prints once it listens: in Chinese, one
// label column and one value column, so the addresses line up.
type startup struct {
	Addr, DB     string
	Demo         bool
	Password     string
	Accounts     []demo.Account
	KeyName, Key string
}

func (s startup) write(w io.Writer) {
	base := "http://" + s.Addr
	fmt.Fprintln(w, "智治 基层智治平台已启动")
	rows := [][2]string{
		{"控制台", base + "/"},
		{"居民上报", base + "/r"},
		{"手机端（网格员）", base + "/m"},
		{"接口文档", base + "/api/v1/openapi.json"},
	}
	if s.Key != "" {
		rows = append(rows, [2]string{"Open311", base + "/open311/v2/discovery.xml"},
			[2]string{"Open311 密钥", s.Key + "（" + s.KeyName + "）"})
	}
	rows = append(rows, [2]string{"数据库", s.DB})
	table(w, "  ", rows)
	if s.Demo && len(s.Accounts) > 0 {
		fmt.Fprintf(w, "演示账号（密码均为 %s）：\n", s.Password)
		acct := [][]string{{"用户名", "角色", "姓名"}}
		for _, a := range s.Accounts {
			acct = append(acct, []string{a.Username, a.Role.Label(), a.Name})
		}
		columns(w, "  ", acct)
	}
	fmt.Fprintln(w, "按 Ctrl+C 停止。")
}

func table(w io.Writer, indent string, rows [][2]string) {
	list := make([][]string, len(rows))
	for i, r := range rows {
		list[i] = []string{r[0], r[1]}
	}
	columns(w, indent, list)
}

// columns writes rows with every column but the last padded to the widest
// cell of its column, by display width (a Chinese character is two columns
// wide in a terminal), with two spaces between columns.
func columns(w io.Writer, indent string, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// displayWidth is how many terminal columns s takes: East Asian wide and
// full-width characters take two, others one.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n++
		if wide(r) {
			n++
		}
	}
	return n
}

func wide(r rune) bool {
	switch {
	case r >= 0x1100 && r <= 0x115F, // Hangul Jamo
		r >= 0x2E80 && r <= 0x303E, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33FF, // kana, CJK symbols
		r >= 0x3400 && r <= 0x4DBF, // CJK extension A
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xA000 && r <= 0xA4CF, // Yi
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF, // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60, // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x20000 && r <= 0x3FFFD: // CJK extensions B and on
		return true
	}
	return false
}
