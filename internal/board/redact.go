package board

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Personal is what a record itself knows to be personal data in its own
// text: the applicant's name, their enterprise's, the address they gave,
// their answers. Redact removes these by value before any pattern runs, so
// that a name no pattern could recognise is still removed.
type Personal struct {
	Names     []string // people's (and private firms') names: replaced by 某某
	Addresses []string // addresses: cut back to the street (街道, 镇, 路 …)
	Other     []string // anything else the record holds about the person: removed
}

// What removed data is replaced by: the reader sees that something was
// there and what kind of thing it was, never any part of it.
const (
	hiddenName    = "某某"
	hiddenID      = "（证件号已隐去）"
	hiddenPhone   = "（电话已隐去）"
	hiddenCode    = "（信用代码已隐去）"
	hiddenEmail   = "（邮箱已隐去）"
	hiddenPlate   = "（车牌已隐去）"
	hiddenOther   = "（个人信息已隐去）"
	hiddenAddress = "某地"
)

// Redact returns text with personal data removed: first the values p
// names (longest first, so that an address is cut before a name inside
// it is), then what patterns recognise — 身份证号码 (18 and 15 digits),
// 统一社会信用代码, mobile numbers (with +86, spaces or dashes), landlines
// with an area code or after a label (电话：2345678), e-mail addresses,
// licence plates, house numbers, buildings and rooms after a street or
// compound name (建设路12号院3号楼2单元501室 → 建设路), a name after a
// label (申请人：张三) and a surname before 先生/女士/师傅 (王先生 → 某先生).
//
// Patterns cannot know every name: free text about people is safe only
// with the record's own values in p, which is why sources pass them.
func Redact(text string, p Personal) string {
	text = normaliseDigits(text)
	type value struct{ v, with string }
	var values []value
	add := func(vs []string, with func(string) string) {
		for _, v := range vs {
			v = normaliseDigits(strings.TrimSpace(v))
			if utf8.RuneCountInString(v) >= 2 { // a single character would cut words apart
				values = append(values, value{v, with(v)})
			}
		}
	}
	add(p.Addresses, streetOf)
	add(p.Names, func(string) string { return hiddenName })
	add(p.Other, func(string) string { return hiddenOther })
	slices.SortStableFunc(values, func(a, b value) int { return len(b.v) - len(a.v) })
	for _, v := range values {
		text = strings.ReplaceAll(text, v.v, v.with)
	}
	for _, r := range rules {
		text = r.apply(text)
	}
	return text
}

// A rule replaces what its pattern matches, unless the characters around
// the match say it is part of something longer (a digit before a mobile
// number makes it part of a longer number).
type rule struct {
	re *regexp.Regexp
	// keep reports whether a match at text[i:j] is to be left alone.
	keep func(text string, i, j int) bool
	with func(match []string) string
}

func (r rule) apply(text string) string {
	var b strings.Builder
	last := 0
	for _, m := range r.re.FindAllStringSubmatchIndex(text, -1) {
		if r.keep != nil && r.keep(text, m[0], m[1]) {
			continue
		}
		groups := make([]string, len(m)/2)
		for g := range groups {
			if m[2*g] >= 0 {
				groups[g] = text[m[2*g]:m[2*g+1]]
			}
		}
		b.WriteString(text[last:m[0]])
		b.WriteString(r.with(groups))
		last = m[1]
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// inAlnum: the match continues a run of ASCII letters or digits on either
// side, so it is a piece of a longer code, not a number of its own.
func inAlnum(text string, i, j int) bool {
	return i > 0 && isAlnum(text[i-1]) || j < len(text) && isAlnum(text[j])
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func fixed(s string) func([]string) string { return func([]string) string { return s } }

// surnames are the commonest Chinese surnames: a character before 先生 or
// 女士 is taken for a surname only if it is one, so that 感谢先生 stays.
const surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"

// Place words that a house number follows: a road, a street, a village,
// a compound. What follows them (号, 栋, 单元, 室 …) is beyond the street.
const placeWords = `路|街|道|巷|胡同|大道|里|村|组|社区|小区|花园|公寓|大厦|广场|家园|苑|庄|园|城|院`

var rules = []rule{
	// 身份证号码: 18 characters (the last may be X) or the old 15 digits.
	// A 办件编号 (county, date, serial) has the same shape and goes too:
	// the safe side, and a board entry does not need it.
	{re: regexp.MustCompile(`[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]|[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}`),
		keep: inAlnum, with: fixed(hiddenID)},
	// 统一社会信用代码: 18 characters of its alphabet, with a letter or an
	// 18-digit run the identity rule did not take.
	{re: regexp.MustCompile(`[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}`), keep: inAlnum, with: fixed(hiddenCode)},
	// E-mail before numbers: its digits are part of it.
	{re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`), with: fixed(hiddenEmail)},
	// Mobile numbers: 11 digits from 13–19, optionally +86 and separators.
	{re: regexp.MustCompile(`(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}`), keep: inAlnum, with: fixed(hiddenPhone)},
	// Landlines with an area code: 0375-2345678, (0375)2345678, 0375 2345678
	// 转 123; hotlines such as 12345 have none and stay.
	{re: regexp.MustCompile(`(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[ -]?)[2-9]\d{6,7}(?:(?:-|转)\d{1,5})?`), keep: inAlnum, with: fixed(hiddenPhone)},
	// A local number after a label: 电话：2345678.
	{re: regexp.MustCompile(`(电话|座机|固话|手机|联系方式|联系电话)([:：]?\s*)[2-9]\d{6,7}`), keep: func(t string, i, j int) bool { return j < len(t) && isAlnum(t[j]) },
		with: func(m []string) string { return m[1] + m[2] + hiddenPhone }},
	// Licence plates: 豫D12345, 豫DF12345 (new energy).
	{re: regexp.MustCompile(`[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·\s]?[A-HJ-NP-Z0-9]{5,6}`),
		keep: func(t string, i, j int) bool { return j < len(t) && isAlnum(t[j]) }, with: fixed(hiddenPlate)},
	// House numbers, buildings, units and rooms after a place word:
	// 建设路12号院3号楼2单元501室, 朝阳小区3栋2-501, 姚孟村3组12号.
	{re: regexp.MustCompile(`(` + placeWords + `)((?:[0-9一二三四五六七八九十百零〇甲乙丙丁A-Za-z#＃\-－]+(?:号院|号楼|号|弄|栋|幢|座|单元|层|楼|室|户|组)[\-－]?)+(?:[0-9]+(?:[\-－][0-9]+)*)?|[0-9]+(?:[\-－][0-9]+)+)`),
		with: func(m []string) string { return m[1] }},
	// A name after a label and a colon: 申请人：张三丰, 联系人: 王女士.
	{re: regexp.MustCompile(`(申请人|当事人|投诉人|举报人|反映人|来电人|联系人|经办人|法定代表人|代理人|委托人|姓名)([:：]\s*)[\p{Han}·]{2,4}`),
		with: func(m []string) string { return m[1] + m[2] + hiddenName }},
	// A surname before a form of address: 王先生 → 某先生.
	// 感谢先生 thanks a man: 谢 after 感, 多, 致 or 答 is the verb.
	{re: regexp.MustCompile(`([` + surnames + `])(先生|女士|小姐|同志|师傅|大爷|大妈|阿姨|老师)`),
		keep: func(t string, i, j int) bool {
			return strings.HasPrefix(t[i:], "谢") && (strings.HasSuffix(t[:i], "感") || strings.HasSuffix(t[:i], "多") ||
				strings.HasSuffix(t[:i], "致") || strings.HasSuffix(t[:i], "答"))
		},
		with: func(m []string) string { return "某" + m[2] }},
}

// normaliseDigits turns full-width digits, letters and dashes into ASCII,
// so that ０３７５－２３４５６７８ is caught like 0375-2345678.
func normaliseDigits(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９', r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ', r == '－', r == '＋':
			return r - 0xFEE0 // the full-width block mirrors ASCII
		}
		return r
	}, s)
}

// streetOf is an address cut back to its street: everything up to the
// first 街道, 镇, 乡, 路, 大道, 街 or 巷 (湛河区马庄街道建设路12号 →
// 湛河区马庄街道); an address without one is hidden entirely.
func streetOf(addr string) string {
	start, end := -1, 0
	for _, w := range []string{"街道", "镇", "乡", "大道", "路", "街", "巷"} { // longer words first: 街道 before 街
		if i := strings.Index(addr, w); i > 0 && (start < 0 || i < start) {
			start, end = i, i+len(w)
		}
	}
	if start < 0 {
		return hiddenAddress
	}
	return addr[:end]
}
