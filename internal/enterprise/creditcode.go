package enterprise

import "strings"

// creditChars are the characters of a unified social credit code
// (统一社会信用代码, GB 32100-2015) in the order of their values 0–30: the
// digits and the capital letters without I, O, Z, S and V.
const creditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditWeights are the weights of the first 17 characters: 3^(i) mod 31.
var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCheckChar returns the check character (the 18th) for the first 17
// characters of a code, and false when they are not 17 characters of the
// code's alphabet.
func CreditCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditChars, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * creditWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return creditChars[c], true
}

// CheckCreditCode says what is wrong with a unified social credit code, in
// Chinese, or "" when it is valid: 18 characters of the code's alphabet,
// the administrative division (characters 3–8) in digits, and the GB 32100
// check character last. Lower-case letters are refused, not corrected:
// NormalizeCreditCode does that first.
func CheckCreditCode(code string) string {
	if len(code) != 18 {
		return "统一社会信用代码应为18位"
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(creditChars, code[i]) < 0 {
			return "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）"
		}
	}
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return "统一社会信用代码第3至8位应为行政区划代码（数字）"
		}
	}
	want, _ := CreditCheckChar(code[:17])
	if code[17] != want {
		return "统一社会信用代码校验位不正确，请核对"
	}
	return ""
}

// NormalizeCreditCode trims spaces and upper-cases a code as typed.
func NormalizeCreditCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
