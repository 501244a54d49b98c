package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// A generated catalog for scale tests and benchmarks: item names put
// together from the parts real catalogs use, so that common words (登记,
// 许可, 申请, 证) are in tens of thousands of documents as they would be in
// a city-wide catalog of that size.

var genSubjects = []string{
	"个体工商户", "食品经营", "建设工程", "居民身份证", "城乡居民养老保险", "最低生活保障", "机动车", "药品零售",
	"排污", "取水", "娱乐场所", "农民专业合作社", "有限责任公司", "外商投资企业", "道路运输", "出版物零售",
	"烟草专卖零售", "危险化学品经营", "特种设备", "医疗机构执业", "执业医师", "护士执业", "教师资格", "民办学校",
	"养老机构", "社会团体", "民办非企业单位", "城镇职工基本养老保险", "失业保险金", "工伤保险", "生育保险", "基本医疗保险",
	"住房公积金", "公共租赁住房", "残疾人证", "居住证", "户籍", "出生医学证明", "结婚", "收养",
	"殡葬设施", "林木采伐", "动物防疫条件", "兽药经营", "农药经营", "种子生产经营", "渔业捕捞", "建筑工程",
	"城市道路占用", "户外广告设置", "燃气经营", "城镇污水排入排水管网", "人防工程", "消防设计", "国有建设用地使用权", "不动产",
	"商品房预售", "房地产开发企业资质", "劳务派遣经营", "人力资源服务", "社会保障卡", "高龄津贴", "临时救助", "特困人员",
}

var genActions = []string{
	"设立登记", "变更登记", "注销登记", "许可", "审批", "备案", "核发", "认定", "申领", "确认", "补贴发放",
	"延续", "换证", "补证", "年检", "资格审核", "待遇申领", "信息变更", "证明开具", "申请受理", "许可证核发", "首次登记", "施工许可",
}

var genQualifiers = []string{"", "", "", "", "（新办）", "（变更）", "（延续）", "（首次申请）", "（告知承诺制）", "（一般程序）", "（简易程序）", "（跨省通办）"}

var genPrefixes = []string{"", "", "", "", "", "市级", "区级", "省内"}

// Aliases by subject: what people call the items.
var genAliases = map[string][]string{
	"个体工商户":      {"营业执照", "开店", "个体户"},
	"有限责任公司":     {"营业执照", "开公司"},
	"食品经营":       {"开店", "食品许可证"},
	"居民身份证":      {"身份证", "办身份证"},
	"城乡居民养老保险":   {"社保", "养老保险"},
	"城镇职工基本养老保险": {"社保", "养老保险"},
	"社会保障卡":      {"社保卡"},
	"最低生活保障":     {"低保"},
	"基本医疗保险":     {"医保"},
	"住房公积金":      {"公积金"},
	"机动车":        {"车辆", "汽车"},
	"户籍":         {"户口", "落户"},
	"结婚":         {"领证"},
	"居住证":        {"暂住证"},
	"城镇污水排入排水管网": {"排水许可"},
}

var genSynonyms = map[string][]string{
	"身份证": {"居民身份证"},
	"开店":  {"食品经营许可", "个体工商户设立登记"},
	"户口":  {"户籍", "户口迁移"},
	"社保":  {"社会保险", "养老保险"},
	"医保":  {"医疗保险"},
	"执照":  {"营业执照"},
	"驾照":  {"机动车驾驶证"},
}

var genDepartments = func() []string {
	bureaus := []string{"市场监督管理局", "人力资源和社会保障局", "民政局", "公安分局", "住房和城乡建设局", "生态环境分局", "水务局", "文化和旅游局", "交通运输局",
		"卫生健康委员会", "教育局", "医疗保障局", "自然资源分局", "农业农村局", "商务局", "应急管理局", "城市管理局", "司法局"}
	areas := []string{"东城区", "西城区", "南山区", "北湖区", "高新区"}
	var out []string
	for _, a := range areas {
		for _, b := range bureaus {
			out = append(out, a+b)
		}
	}
	return out // 90
}()

var genTowns = []string{"东城街道", "西关街道", "南湖街道", "北山街道", "城关镇", "新桥镇", "河口镇", "青石镇", "白沙镇", "龙泉乡", "高坪乡", "柳林街道", "花园街道", "金山街道", "石门镇", "双河镇", "三江镇", "大坝乡", "红星街道", "和平街道"}

var genConditions = []string{
	"申请人应当提交申请材料，材料齐全、符合法定形式的予以受理",
	"申请人持有效身份证件到窗口办理",
	"经审查符合条件的，作出准予登记的决定",
	"需要现场核查的，自受理之日起十个工作日内完成",
	"申请材料不齐全的，一次性告知需要补正的全部内容",
	"符合条件的申请人可以在网上提交申请",
	"依法应当先经批准的，应当提交有关批准文件",
	"办理结果可以邮寄送达，也可以窗口领取",
	"申请人对决定不服的，可以依法申请行政复议",
	"不收费",
}

var genResults = []string{"营业执照", "许可证", "批准文书", "备案回执", "登记证书", "证明", "资格证书", "核准通知书", "补贴到账"}

var genThemes = []string{"生育收养", "户籍办理", "教育科研", "就业创业", "社会保障", "婚姻登记", "住房保障", "医疗卫生",
	"养老服务", "残疾人服务", "优待抚恤", "民族宗教", "证件办理", "交通出行", "死亡殡葬", "设立变更", "准营准办", "年检年审",
	"税收财务", "人力资源", "工程建设", "安全生产", "环保绿化", "知识产权", "商务贸易", "农林牧渔", "注销", "文化体育", "公共安全", "其他"}

var genTypes = []string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "20", "21"}

// genCatalog makes n documents, the same for the same n.
func genCatalog(n int) []Doc {
	rng := rand.New(rand.NewPCG(2026, uint64(n)))
	// Zipf-like popularity: rank r (in a random order) gets about
	// 200000/(r+1)^1.1 cases a year.
	perm := rng.Perm(n)
	docs := make([]Doc, n)
	for i := range docs {
		subj := genSubjects[rng.IntN(len(genSubjects))]
		act := genActions[rng.IntN(len(genActions))]
		name := genPrefixes[rng.IntN(len(genPrefixes))] + subj + act + genQualifiers[rng.IntN(len(genQualifiers))]
		var aliases []string
		if as, ok := genAliases[subj]; ok && rng.IntN(10) < 7 {
			aliases = as[:1+rng.IntN(len(as))]
		}
		dept := rng.IntN(len(genDepartments))
		text := strings.Join([]string{
			genDepartments[dept],
			genTowns[rng.IntN(len(genTowns))] + "便民服务中心",
			genConditions[rng.IntN(len(genConditions))],
			genResults[rng.IntN(len(genResults))],
		}, " ")
		docs[i] = Doc{
			ID:         int64(i + 1),
			Name:       name,
			Aliases:    aliases,
			Text:       text,
			Popularity: int(200000 / math.Pow(float64(perm[i]+1), 1.1)),
			Tags: []string{
				fmt.Sprintf("level:%d", 1+rng.IntN(3)),
				fmt.Sprintf("dept:d%02d", dept+1),
				"theme:" + genThemes[rng.IntN(len(genThemes))],
				"type:" + genTypes[rng.IntN(len(genTypes))],
				fmt.Sprintf("depth:%d", 1+rng.IntN(4)),
			},
		}
	}
	return docs
}

// benchQueries is a mix of what people type: two-character words, pinyin
// and initials, typos, whole names, very common words, and browsing by
// tags.
var benchQueries = []Query{
	{Text: "社保"},
	{Text: "户口"},
	{Text: "低保"},
	{Text: "医保"},
	{Text: "营业执照"},
	{Text: "开店"},
	{Text: "身份证"},
	{Text: "公积金"},
	{Text: "施工许可"},
	{Text: "个体工商户设立登记"},
	{Text: "城乡居民养老保险待遇申领"},
	{Text: "食品经营许可证核发（延续）"},
	{Text: "登记"},
	{Text: "许可"},
	{Text: "申请"},
	{Text: "设立登记"},
	{Text: "证"},
	{Text: "shebao"},
	{Text: "sb"},
	{Text: "dibao"},
	{Text: "yyzz"},
	{Text: "yingyezhizhao"},
	{Text: "She Bao"},
	{Text: "营业执找"},
	{Text: "居住正"},
	{Text: "施工许年"},
	{Tags: []string{"level:2"}},
	{Tags: []string{"dept:d07", "depth:4"}},
	{Text: "登记", Tags: []string{"theme:就业创业"}},
	{Text: "许可", Tags: []string{"type:01", "level:3"}, Offset: 20},
	{Text: "机动车 变更"},
	{Text: "不存在的事项名称"},
}
