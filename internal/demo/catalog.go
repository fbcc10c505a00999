// Package demo loads the Yuzhong demo: the district's real streets and
// communities with synthesized grids, a sample catalog of categories and
// units, accounts for every role, about six months of cases that a street
// office would recognise (most closed on time, routed by the graded
// classification library), and scenarios S1, S2, S4 and S5 of scenarios.md.
// The catalog is sample data written here, not a copy of any standard's tables.
package demo

import (
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// District is Yuzhong's region path.
const District = "/500000/500103/"

// units are the district departments; every street's boards, posts and
// sections and every community's unit come from boards.go.
var units = []cases.Unit{
	{ID: "yj", Name: "区应急管理局", Kind: "department"},
	{ID: "scjg", Name: "区市场监管局", Kind: "department"},
	{ID: "xf", Name: "区消防救援支队", Kind: "department"},
	{ID: "cg", Name: "区城市管理局", Kind: "department"},
	{ID: "zj", Name: "区住房城乡建委", Kind: "department"},
	{ID: "sthj", Name: "区生态环境局", Kind: "department"},
	{ID: "jt", Name: "区交通运输委", Kind: "department"},
	{ID: "wj", Name: "区卫生健康委", Kind: "department"},
	{ID: "mz", Name: "区民政局", Kind: "department"},
	{ID: "rs", Name: "区人力社保局", Kind: "department"},
	{ID: "yb", Name: "区医保局", Kind: "department"},
	{ID: "ga", Name: "公安渝中分局", Kind: "department"},
	{ID: "sf", Name: "区司法局", Kind: "department"},
	{ID: "jw", Name: "区教委", Kind: "department"},
	{ID: "sw", Name: "区商务委", Kind: "department"},
	{ID: "gh", Name: "区规划自然资源局", Kind: "department"},
}

func lim(s string) sla.Limit {
	l, err := sla.ParseLimit(s)
	if err != nil {
		panic(err)
	}
	return l
}

// limits builds a category's table from its handling limits (normal, urgent).
func limits(handleNormal, handleUrgent string) sla.Table {
	t := sla.DefaultTable()
	t[sla.Handle] = map[sla.Severity]sla.Limit{sla.Normal: lim(handleNormal), sla.Urgent: lim(handleUrgent), sla.Critical: lim("120m")}
	return t
}

type catSpec struct {
	code, name string
	board      cases.Board
	level      string
	unit       string
	handle     [2]string
	keywords   []string
}

var catSpecs = []catSpec{
	// 平安法治 safety and rule of law
	{"AQ01", "危化品违规使用", cases.BoardSafety, "street", "yj", [2]string{"2wd", "4wh"}, []string{"醇基燃料", "危化品", "液化气", "燃料", "酒精"}},
	{"AQ02", "消防通道堵塞", cases.BoardSafety, "community", "xf", [2]string{"4wh", "2wh"}, []string{"消防通道", "堵塞", "占用", "消防"}},
	{"AQ03", "消防设施损坏", cases.BoardSafety, "street", "xf", [2]string{"3wd", "1wd"}, []string{"灭火器", "消防栓", "消火栓", "新风", "烟感"}},
	{"AQ04", "电动车违规充电", cases.BoardSafety, "community", "xf", [2]string{"1wd", "4wh"}, []string{"电动车", "充电", "飞线"}},
	{"AQ05", "高空坠物隐患", cases.BoardSafety, "community", "zj", [2]string{"1wd", "2wh"}, []string{"高空", "坠物", "外墙", "脱落", "广告牌"}},
	{"AQ06", "邻里纠纷", cases.BoardSafety, "community", "sf", [2]string{"5wd", "2wd"}, []string{"纠纷", "矛盾", "吵架", "噪音扰民"}},
	{"AQ07", "治安隐患", cases.BoardSafety, "street", "ga", [2]string{"1wd", "2wh"}, []string{"治安", "可疑", "盗窃", "打架"}},
	{"AQ08", "地质灾害隐患", cases.BoardSafety, "district", "gh", [2]string{"2wd", "4wh"}, []string{"滑坡", "裂缝", "崖壁", "地质"}},
	{"AQ09", "燃气泄漏", cases.BoardSafety, "district", "yj", [2]string{"4wh", "60m"}, []string{"燃气", "天然气", "泄漏", "煤气"}},
	{"AQ10", "大型活动客流", cases.BoardSafety, "district", "ga", [2]string{"2wh", "30m"}, []string{"客流", "人群", "拥挤", "踩踏"}},
	// 民生服务 public services
	{"MS01", "道路破损", cases.BoardServices, "district", "cg", [2]string{"5wd", "1wd"}, []string{"道路", "破损", "坑洼", "路面"}},
	{"MS02", "井盖缺失破损", cases.BoardServices, "district", "cg", [2]string{"4wh", "120m"}, []string{"井盖", "窨井"}},
	{"MS03", "暴露垃圾", cases.BoardServices, "grid", "cg", [2]string{"4wh", "2wh"}, []string{"垃圾", "暴露", "堆放", "乱扔"}},
	{"MS04", "建筑垃圾乱堆", cases.BoardServices, "street", "cg", [2]string{"2wd", "1wd"}, []string{"建筑垃圾", "装修垃圾", "渣土"}},
	{"MS05", "绿化损毁", cases.BoardServices, "street", "cg", [2]string{"3wd", "1wd"}, []string{"绿化", "树木", "花草", "枯死", "腐烂"}},
	{"MS06", "路灯故障", cases.BoardServices, "district", "cg", [2]string{"2wd", "4wh"}, []string{"路灯", "不亮", "照明"}},
	{"MS07", "排水管道堵塞", cases.BoardServices, "street", "zj", [2]string{"2wd", "4wh"}, []string{"下水道", "排水", "堵塞", "管道", "污水"}},
	{"MS08", "房屋漏水", cases.BoardServices, "community", "zj", [2]string{"10wd", "2wd"}, []string{"漏水", "渗水", "屋顶", "房顶"}},
	{"MS09", "老旧小区设施维修", cases.BoardServices, "street", "zj", [2]string{"15wd", "3wd"}, []string{"老旧小区", "维修基金", "设施", "电梯"}},
	{"MS10", "违章搭建", cases.BoardServices, "street", "cg", [2]string{"15wd", "4wh"}, []string{"违章", "搭建", "违建"}},
	{"MS11", "占道经营", cases.BoardServices, "grid", "cg", [2]string{"4wh", "2wh"}, []string{"占道", "摆摊", "流动摊贩"}},
	{"MS12", "噪声污染", cases.BoardServices, "street", "sthj", [2]string{"2wd", "4wh"}, []string{"噪声", "噪音", "施工噪音"}},
	{"MS13", "油烟污染", cases.BoardServices, "street", "sthj", [2]string{"3wd", "1wd"}, []string{"油烟", "餐馆", "排烟"}},
	{"MS14", "违规停车", cases.BoardServices, "community", "jt", [2]string{"4wh", "2wh"}, []string{"停车", "乱停", "车辆"}},
	{"MS15", "公交站点设施", cases.BoardServices, "district", "jt", [2]string{"3wd", "1wd"}, []string{"公交", "站台", "候车"}},
	{"MS16", "困难群众救助", cases.BoardServices, "community", "mz", [2]string{"5wd", "1wd"}, []string{"救助", "困难", "低保", "孤寡老人"}},
	{"MS17", "学校周边环境", cases.BoardServices, "district", "jw", [2]string{"10wd", "3wd"}, []string{"学校", "校园周边", "小学"}},
	{"MS18", "医疗卫生服务", cases.BoardServices, "district", "wj", [2]string{"5wd", "1wd"}, []string{"医疗", "卫生", "疫苗", "诊所"}},
	{"MS19", "居民诉求其他", cases.BoardServices, "community", "", [2]string{"5wd", "1wd"}, []string{"诉求", "咨询", "建议"}},
	// 经济发展 economic development
	{"JJ01", "企业政策咨询", cases.BoardEconomy, "street", "", [2]string{"5wd", "2wd"}, []string{"政策", "咨询", "企业", "补贴"}},
	{"JJ02", "医保政策服务", cases.BoardEconomy, "district", "yb", [2]string{"5wd", "2wd"}, []string{"医保", "门诊", "统筹"}},
	{"JJ03", "用工社保服务", cases.BoardEconomy, "district", "rs", [2]string{"5wd", "2wd"}, []string{"社保", "用工", "招聘", "劳动"}},
	{"JJ04", "市场经营秩序", cases.BoardEconomy, "district", "scjg", [2]string{"3wd", "1wd"}, []string{"经营", "无证", "价格", "食品安全"}},
	{"JJ05", "企业开办服务", cases.BoardEconomy, "district", "scjg", [2]string{"3wd", "1wd"}, []string{"开办", "营业执照", "注册"}},
	{"JJ06", "楼宇招商服务", cases.BoardEconomy, "street", "sw", [2]string{"10wd", "3wd"}, []string{"楼宇", "招商", "入驻"}},
	{"JJ07", "企业法律服务", cases.BoardEconomy, "district", "sf", [2]string{"5wd", "2wd"}, []string{"法律", "合同", "纠纷调解", "律师"}},
	// 党的建设 party building
	{"DJ01", "党员服务", cases.BoardParty, "community", "", [2]string{"5wd", "2wd"}, []string{"党员", "组织关系", "党费"}},
	{"DJ02", "志愿服务需求", cases.BoardParty, "community", "", [2]string{"5wd", "2wd"}, []string{"志愿", "志愿者", "帮扶"}},
	{"DJ03", "党群服务中心", cases.BoardParty, "street", "", [2]string{"5wd", "2wd"}, []string{"党群", "服务中心", "活动室"}},
	{"DJ04", "两新组织党建", cases.BoardParty, "street", "", [2]string{"10wd", "3wd"}, []string{"两新", "非公", "商圈党建"}},
}

// Categories returns the sample catalog of about 40 categories.
func Categories() []cases.Category {
	out := make([]cases.Category, 0, len(catSpecs))
	for _, s := range catSpecs {
		c := cases.Category{Code: s.code, Name: s.name, Board: s.board, Level: s.level, DefaultUnit: s.unit,
			Keywords: s.keywords, Limits: limits(s.handle[0], s.handle[1]), Public: s.board != cases.BoardParty, Active: true,
			Description: s.name}
		switch s.code {
		case "AQ01":
			c.Questions = []cases.Question{
				{Code: "shop", Prompt: "商铺名称", Type: cases.QString, Required: true, Order: 1},
				{Code: "equipment", Prompt: "设备类型", Type: cases.QSingle, Required: true, Order: 2, Choices: []cases.Choice{
					{Key: "alcohol_stove", Name: "醇基燃料灶具"}, {Key: "lpg", Name: "液化气罐"}, {Key: "other", Name: "其他"}}},
				{Code: "quantity", Prompt: "数量", Type: cases.QNumber, Order: 3},
			}
		case "MS02":
			c.Questions = []cases.Question{
				{Code: "kind", Prompt: "井盖类型", Type: cases.QMulti, Required: true, Order: 1, Choices: []cases.Choice{
					{Key: "rain", Name: "雨水"}, {Key: "sewage", Name: "污水"}, {Key: "power", Name: "电力"}, {Key: "telecom", Name: "通信"}}},
				{Code: "found_at", Prompt: "发现时间", Type: cases.QDateTime, Order: 2},
				{Code: "detail", Prompt: "补充说明", Type: cases.QText, Order: 3},
			}
		}
		out = append(out, c)
	}
	return out
}
