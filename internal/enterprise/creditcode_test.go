package enterprise

import "testing"

func TestCheckCreditCode(t *testing.T) {
	valid := []string{
		"91350100M000100Y43", // the standard's own example
		"9144030071526726XG", // published on a business licence
		"91110000802100433B",
	}
	for _, c := range valid {
		if r := CheckCreditCode(c); r != "" {
			t.Errorf("%s: %s, want valid", c, r)
		}
	}
	bad := []struct{ code, reason string }{
		{"", "统一社会信用代码应为18位"},
		{"91350100M000100Y4", "统一社会信用代码应为18位"},
		{"91350100M000100Y433", "统一社会信用代码应为18位"},
		{"91350100M000100Y44", "统一社会信用代码校验位不正确，请核对"},
		{"9135010OM000100Y43", "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）"},
		{"91350100m000100Y43", "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）"},
		{"91A50100M000100Y43", "统一社会信用代码第3至8位应为行政区划代码（数字）"},
		{"9144030071526726X1", "统一社会信用代码校验位不正确，请核对"},
		{"统一社会信用代码码", "统一社会信用代码应为18位"},
	}
	for _, b := range bad {
		if r := CheckCreditCode(b.code); r != b.reason {
			t.Errorf("%q: %q, want %q", b.code, r, b.reason)
		}
	}
	if NormalizeCreditCode(" 91350100m000100y43 ") != "91350100M000100Y43" {
		t.Error("normalize")
	}
}

// Changing any one character of a valid code to another of the alphabet is
// always caught (the check character is a weighted sum mod 31 with weights
// prime to 31).
func TestCreditCodeSingleChange(t *testing.T) {
	code := "91350100M000100Y43"
	for i := 0; i < 18; i++ {
		for j := 0; j < len(creditChars); j++ {
			b := []byte(code)
			if b[i] == creditChars[j] {
				continue
			}
			b[i] = creditChars[j]
			if CheckCreditCode(string(b)) == "" {
				t.Fatalf("%s accepted", b)
			}
		}
	}
}

func FuzzCheckCreditCode(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Add("9144030071526726XG")
	f.Add("")
	f.Add("ÿÿÿÿÿÿÿÿÿ")
	f.Fuzz(func(t *testing.T, s string) {
		r := CheckCreditCode(s)
		if len(s) != 18 && r == "" {
			t.Fatalf("%q accepted", s)
		}
		if r == "" {
			want, ok := CreditCheckChar(s[:17])
			if !ok || want != s[17] {
				t.Fatalf("%q accepted with a wrong check character", s)
			}
		}
		if len(s) >= 17 {
			if c, ok := CreditCheckChar(s[:17]); ok && CheckCreditCode(s[:17]+"0") != "统一社会信用代码第3至8位应为行政区划代码（数字）" {
				if r := CheckCreditCode(s[:17] + string(c)); r != "" {
					t.Fatalf("%q with its own check character refused: %s", s[:17], r)
				}
			}
		}
	})
}
