package cases

import (
	"strings"
	"unicode"
)

// PhoneHint is the reason given for a staff phone number that cannot be read.
const PhoneHint = "电话号码应为11位手机号（如 13812345678）或带区号的固定电话（如 023-63881234）"

// NormalizeStaffPhone reads a staff member's phone number as people write
// it and returns it in one form, or ok false:
//
//   - a mainland mobile number, 11 digits starting 13–19, optionally after
//     +86 or 86, returned as the 11 digits ("13812345678");
//   - a landline with its area code (0 and two or three more digits: 010 and
//     02x have three digits in all and 8-digit local numbers, the others
//     four and 7 or 8 digits) and a local number not starting with 0 or 1, optionally followed by an
//     extension of up to 6 digits after "-" or 转, returned as
//     "023-63881234" or "023-63881234-801".
//
// Full-width digits and punctuation are folded; spaces, hyphens, dashes,
// dots and brackets around the area code are separators. Anything else —
// a 7-digit local number without its area code, a service number, letters —
// is refused.
func NormalizeStaffPhone(s string) (norm string, ok bool) {
	rs := []rune(strings.TrimSpace(s))
	if len(rs) == 0 || len(rs) > 40 {
		return "", false
	}
	var groups []string // runs of digits between separators
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			groups = append(groups, cur.String())
			cur.Reset()
		}
	}
	plus, extAt := false, -1 // extAt: index in groups where a 转 extension starts
	for i, r := range rs {
		if r >= '\uFF01' && r <= '\uFF5E' {
			r -= 0xFEE0 // full-width forms
		}
		switch {
		case r >= '0' && r <= '9':
			cur.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == '转':
			flush()
			if extAt >= 0 || len(groups) == 0 {
				return "", false
			}
			extAt = len(groups)
		case r == '-' || r == '.' || r == '(' || r == ')' || r == '—' || r == '–' || unicode.IsSpace(r):
			flush()
		default:
			return "", false
		}
	}
	flush()
	ext := ""
	if extAt >= 0 {
		if extAt != len(groups)-1 {
			return "", false
		}
		ext, groups = groups[extAt], groups[:extAt]
	}
	all := strings.Join(groups, "")
	// A mobile number: 11 digits, or 13 with the country code 86.
	if ext == "" {
		m := all
		if len(m) == 13 && strings.HasPrefix(m, "86") {
			m = m[2:]
		} else if plus {
			return "", false
		}
		if len(m) == 11 && m[0] == '1' && m[1] >= '3' && m[1] <= '9' {
			return m, true
		}
	}
	if plus {
		return "", false
	}
	// A landline: area code, local number, perhaps an extension.
	// Three groups are area, local number and extension (023-63881234-801),
	// or area and a local number written in two halves (023 6388 1234).
	if len(groups) == 3 {
		if len(groups[1]) >= 7 && ext == "" {
			ext, groups = groups[2], groups[:2]
		} else {
			groups = []string{groups[0], groups[1] + groups[2]}
		}
		all = groups[0] + groups[1]
	}
	if len(groups) == 0 || len(groups) > 2 || len(all) < 2 || all[0] != '0' || all[1] == '0' {
		return "", false
	}
	areaLen := 4
	if all[1] == '1' || all[1] == '2' {
		areaLen = 3
	}
	if len(groups) == 2 && len(groups[0]) != areaLen {
		return "", false
	}
	area, local := all[:min(areaLen, len(all))], all[min(areaLen, len(all)):]
	if len(local) < 7 || len(local) > 8 || (areaLen == 3 && len(local) != 8) || local[0] == '0' || local[0] == '1' || len(ext) > 6 {
		return "", false
	}
	norm = area + "-" + local
	if ext != "" {
		norm += "-" + ext
	}
	return norm, true
}
