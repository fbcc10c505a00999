package demo

import (
	"sort"
	"strings"

	"zhizhi/internal/cases"
)

// streetAbbr gives each of Yuzhong's 11 streets the short code its units and
// accounts are named with (pinyin initials).
var streetAbbr = map[string]string{
	"七星岗街道": "qxg", "解放碑街道": "jfb", "两路口街道": "llk", "上清寺街道": "sqs", "菜园坝街道": "cyb",
	"南纪门街道": "njm", "朝天门街道": "ctm", "大溪沟街道": "dxg", "大坪街道": "dp", "化龙桥街道": "hlq", "石油路街道": "syl",
}

// boardAbbr is each board's code in unit IDs and usernames.
var boardAbbr = map[cases.Board]string{cases.BoardParty: "dj", cases.BoardEconomy: "jj", cases.BoardServices: "ms", cases.BoardSafety: "pa"}

// sectionName is the name of the street office that belongs to each board.
var sectionName = map[cases.Board]string{cases.BoardParty: "党建办", cases.BoardEconomy: "经济发展办",
	cases.BoardServices: "民生服务办", cases.BoardSafety: "平安法治办"}

// posts are the desks of each board (A岗 takes the board's cases first, B岗
// backs it up).
var posts = []string{"a", "b"}

// BoardUnitID is the ID of a street's board unit, e.g. syl-pa-bk.
func BoardUnitID(street string, b cases.Board) string {
	return streetAbbr[street] + "-" + boardAbbr[b] + "-bk"
}

// PostUnitID is the ID of a board's post, e.g. syl-pa-a.
func PostUnitID(street string, b cases.Board, post string) string {
	return streetAbbr[street] + "-" + boardAbbr[b] + "-" + post
}

// SectionUnitID is the ID of a street's section, e.g. syl-pa (平安法治办).
func SectionUnitID(street string, b cases.Board) string {
	return streetAbbr[street] + "-" + boardAbbr[b]
}

// CommunityUnitID is the ID of a community's unit, e.g. c-500103014010.
func CommunityUnitID(code string) string { return "c-" + code }

// streetUnits builds, for every street of the world, its four boards with
// two posts each and its four sections, and a unit for every community.
func (w *world) streetUnits() []cases.Unit {
	var out []cases.Unit
	for _, st := range w.streets {
		if streetAbbr[st.Name] == "" {
			continue
		}
		for _, b := range cases.Boards {
			board := cases.Unit{ID: BoardUnitID(st.Name, b), Name: st.Name + b.Label() + "板块", Kind: cases.UnitBoard,
				Board: b, RegionPath: st.Path, Active: true}
			out = append(out, board)
			for _, p := range posts {
				out = append(out, cases.Unit{ID: PostUnitID(st.Name, b, p), Name: st.Name + b.Label() + "板块" + strings.ToUpper(p) + "岗",
					Kind: cases.UnitPost, Board: b, Parent: board.ID, RegionPath: st.Path, Active: true})
			}
			out = append(out, cases.Unit{ID: SectionUnitID(st.Name, b), Name: st.Name + sectionName[b], Kind: cases.UnitSection,
				Board: b, Parent: board.ID, RegionPath: st.Path, Active: true})
		}
	}
	for _, c := range w.communities {
		out = append(out, cases.Unit{ID: CommunityUnitID(c.Code), Name: c.Name + "居委会", Kind: cases.UnitCommunity, RegionPath: c.Path, Active: true})
	}
	return out
}

// staffAccounts are the accounts of every street's center, boards, posts and
// sections, and every community's secretary: the ones Accounts does not
// already list.
func (w *world) staffAccounts() []Account {
	have := map[string]bool{}
	for _, a := range Accounts() {
		have[a.Username] = true
	}
	var out []Account
	add := func(a Account) {
		if !have[a.Username] {
			have[a.Username] = true
			out = append(out, a)
		}
	}
	// Every district department has a desk account (yj_staff and others).
	for _, u := range units {
		add(Account{u.ID + "_staff", u.Name + "工作人员", cases.RoleUnit, "", u.ID})
	}
	streets := append(w.streets[:0:0], w.streets...)
	sort.Slice(streets, func(i, j int) bool { return streets[i].Code < streets[j].Code })
	for _, st := range streets {
		ab := streetAbbr[st.Name]
		if ab == "" {
			continue
		}
		add(Account{ab + "_zhihui", st.Name + "值班指挥长", cases.RoleCommander, st.Name, ""})
		for _, b := range cases.Boards {
			bb := boardAbbr[b]
			add(Account{ab + "_" + bb + "_head", st.Name + b.Label() + "板块负责人", cases.RoleUnit, "", BoardUnitID(st.Name, b)})
			for _, p := range posts {
				add(Account{ab + "_" + bb + "_" + p, st.Name + b.Label() + "板块" + strings.ToUpper(p) + "岗", cases.RoleUnit, "", PostUnitID(st.Name, b, p)})
			}
			add(Account{ab + "_" + bb, st.Name + sectionName[b], cases.RoleUnit, "", SectionUnitID(st.Name, b)})
		}
	}
	for _, c := range w.communities {
		add(Account{"sq" + strings.TrimPrefix(c.Code, "500103"), c.Name + "书记", cases.RoleCommunity, c.Name, CommunityUnitID(c.Code)})
	}
	return out
}

// communityTitle is the title of the demo's community accounts.
func communityTitle(a Account) string {
	if a.Role == cases.RoleCommunity {
		return "社区书记"
	}
	return ""
}
