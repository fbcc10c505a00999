package evaluation

// measureLabels are the measures' Chinese names, for drill-down lists.
var measureLabels = map[Measure]string{
	Reported:         "上报",
	Registered:       "立案",
	Rejected:         "不予受理",
	Void:             "作废",
	PublicVerified:   "公众举报立案",
	DueClose:         "应结案",
	Closed:           "结案",
	ClosedOnTime:     "按期结案",
	OnSpot:           "就地解决",
	Rated:            "已评价",
	Satisfied:        "满意或基本满意",
	Exempted:         "超时豁免",
	DueHandle:        "应处置",
	Handled:          "已处置",
	HandledOnTime:    "按期处置",
	HandledLate:      "超期处置",
	Reworked:         "返工",
	Dispatched:       "派遣任务",
	SignedOnTime:     "按时签收",
	Summoned:         "被吹哨",
	ReportInOnTime:   "按时报到",
	ReportInLate:     "迟到报到",
	ReportInAbsent:   "未报到",
	PartyRated:       "吹哨已评价",
	PartySatisfied:   "吹哨评价满意",
	Accepted:         "有效上报",
	VerifyDue:        "应核查",
	VerifiedOnTime:   "按时核查",
	RegisteredOnTime: "按时立案",
	DispatchDue:      "应派遣",
	DispatchedOnTime: "按时派遣",
	Redispatched:     "退回或改派",
	ClosedByCenter:   "中心结案",
	ClosedInTime:     "按时结案",
	AcceptedDay:      "当日受理",
	ClosedDay:        "当日办结",
	Supervised:       "督办件应办结",
	SupervisedOnTime: "督办件按期办结",
}

// MeasureLabel is a measure's Chinese name (its code when it has none).
func MeasureLabel(m Measure) string {
	if l, ok := measureLabels[m]; ok {
		return l
	}
	return string(m)
}
