package search

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// A small district catalog. IDs are chosen so that tests read well; the
// popularity numbers decide the order of equal matches.
var testDocs = []Doc{
	{ID: 1, Name: "个体工商户设立登记", Aliases: []string{"营业执照", "开店", "个体户执照"}, Text: "区市场监督管理局 个体工商户营业执照", Popularity: 5000, Tags: []string{"level:3", "dept:scjgj", "theme:设立变更", "type:07", "depth:4"}},
	{ID: 2, Name: "个体工商户变更登记", Aliases: []string{"营业执照变更"}, Text: "区市场监督管理局 营业执照", Popularity: 800, Tags: []string{"level:3", "dept:scjgj", "theme:设立变更", "type:07", "depth:4"}},
	{ID: 3, Name: "个体工商户注销登记", Text: "区市场监督管理局", Popularity: 300, Tags: []string{"level:3", "dept:scjgj", "theme:注销", "type:07", "depth:3"}},
	{ID: 4, Name: "食品经营许可", Aliases: []string{"食品许可证"}, Text: "区市场监督管理局 食品经营许可证", Popularity: 3000, Tags: []string{"level:3", "dept:scjgj", "theme:准营准办", "type:01", "depth:3"}},
	{ID: 5, Name: "建设工程施工许可", Aliases: []string{"施工许可证"}, Text: "区住房和城乡建设局 建筑工程施工许可证", Popularity: 400, Tags: []string{"level:3", "dept:zjj", "theme:工程建设", "type:01", "depth:4"}},
	{ID: 6, Name: "城乡居民基本养老保险参保登记", Aliases: []string{"社保", "养老保险"}, Text: "区人力资源和社会保障局", Popularity: 2000, Tags: []string{"level:3", "dept:rsj", "theme:社会保障", "type:20", "depth:4"}},
	{ID: 7, Name: "社保卡申领", Aliases: []string{"社会保障卡"}, Text: "区人力资源和社会保障局 社会保障卡", Popularity: 6000, Tags: []string{"level:3", "dept:rsj", "theme:社会保障", "type:20", "depth:4"}},
	{ID: 8, Name: "最低生活保障审批", Aliases: []string{"低保"}, Text: "区民政局 街道办事处受理", Popularity: 1500, Tags: []string{"level:3", "dept:mzj", "theme:社会保障", "type:05", "depth:3"}},
	{ID: 9, Name: "居住证申领", Text: "公安分局 派出所 居住证", Popularity: 4000, Tags: []string{"level:3", "dept:gaj", "theme:证件办理", "type:20", "depth:3"}},
	{ID: 10, Name: "居住证签注", Text: "公安分局 派出所", Popularity: 1000, Tags: []string{"level:3", "dept:gaj", "theme:证件办理", "type:20", "depth:4"}},
	{ID: 11, Name: "户籍迁入登记", Aliases: []string{"落户"}, Text: "公安分局 派出所 户口簿", Popularity: 2500, Tags: []string{"level:3", "dept:gaj", "theme:户籍办理", "type:07", "depth:2"}},
	{ID: 12, Name: "出生登记", Aliases: []string{"报户口"}, Text: "公安分局 派出所 出生医学证明", Popularity: 1800, Tags: []string{"level:3", "dept:gaj", "theme:户籍办理", "type:07", "depth:2"}},
	{ID: 13, Name: "居民身份证申领", Aliases: []string{"办身份证"}, Text: "公安分局 派出所", Popularity: 7000, Tags: []string{"level:3", "dept:gaj", "theme:证件办理", "type:20", "depth:2"}},
	{ID: 14, Name: "居民身份证换领", Text: "公安分局 派出所", Popularity: 3000, Tags: []string{"level:3", "dept:gaj", "theme:证件办理", "type:20", "depth:2"}},
	{ID: 15, Name: "临时居民身份证申领", Text: "公安分局 派出所", Popularity: 200, Tags: []string{"level:3", "dept:gaj", "theme:证件办理", "type:20", "depth:2"}},
	{ID: 16, Name: "药品零售企业许可", Text: "区市场监督管理局 药品经营许可证", Popularity: 150, Tags: []string{"level:3", "dept:scjgj", "theme:准营准办", "type:01", "depth:3"}},
	{ID: 17, Name: "排污许可证核发", Text: "生态环境分局", Popularity: 90, Tags: []string{"level:2", "dept:sthjj", "theme:环保绿化", "type:01", "depth:3"}},
	{ID: 18, Name: "取水许可", Text: "区水务局", Popularity: 60, Tags: []string{"level:2", "dept:swj", "theme:农林牧渔", "type:01", "depth:3"}},
	{ID: 19, Name: "娱乐场所经营许可", Text: "区文化和旅游局", Popularity: 70, Tags: []string{"level:3", "dept:wlj", "theme:准营准办", "type:01", "depth:3"}},
	{ID: 20, Name: "失业保险金申领", Text: "区人力资源和社会保障局 社保经办机构", Popularity: 2200, Tags: []string{"level:3", "dept:rsj", "theme:就业创业", "type:05", "depth:4"}},
	{ID: 21, Name: "灵活就业人员参保登记", Text: "社保经办机构受理 社会保险", Popularity: 9000, Tags: []string{"level:3", "dept:rsj", "theme:就业创业", "type:20", "depth:4"}},
	{ID: 22, Name: "结婚登记", Aliases: []string{"领证"}, Text: "区民政局 婚姻登记处", Popularity: 2600, Tags: []string{"level:3", "dept:mzj", "theme:婚姻登记", "type:07", "depth:2"}},
	{ID: 23, Name: "个体工商户设立登记（告知承诺）", Text: "区市场监督管理局", Popularity: 9500, Tags: []string{"level:3", "dept:scjgj", "theme:设立变更", "type:07", "depth:4"}},
	{ID: 24, Name: "银行业金融机构设立", Text: "金融监管分局", Popularity: 5, Tags: []string{"level:1", "dept:jrj", "theme:设立变更", "type:01", "depth:1"}},
	{ID: 25, Name: "《机动车驾驶证》换证", Aliases: []string{"驾照换证"}, Text: "公安交警大队", Popularity: 3500, Tags: []string{"level:2", "dept:jj", "theme:交通出行", "type:20", "depth:4"}},
	{ID: 26, Name: "ETC卡办理", Text: "交通运输局", Popularity: 100, Tags: []string{"level:3", "dept:jtj", "theme:交通出行", "type:20", "depth:4"}},
}

var testSynonyms = map[string][]string{
	"身份证": {"居民身份证"},
	"开店":  {"食品经营许可", "个体工商户设立登记"},
	"户口":  {"户籍", "户口迁移"},
	"社保":  {"社会保险"},
}

var testIndex = sync.OnceValue(func() *Index {
	return Build(testDocs, Options{Synonyms: testSynonyms})
})

func search(t *testing.T, text string) Result {
	t.Helper()
	return testIndex().Search(Query{Text: text, Limit: 100})
}

func ids(r Result) []int64 {
	out := make([]int64, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.ID
	}
	return out
}

func hitOf(r Result, id int64) (Hit, bool) {
	for _, h := range r.Hits {
		if h.ID == id {
			return h, true
		}
	}
	return Hit{}, false
}

func nameOf(id int64) string {
	for _, d := range testDocs {
		if d.ID == id {
			return d.Name
		}
	}
	return ""
}

func describe(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "total %d corrected %q:", r.Total, r.Corrected)
	for _, h := range r.Hits {
		fmt.Fprintf(&b, " %s(%s %.2f)", nameOf(h.ID), h.Via, h.Score)
	}
	return b.String()
}

// mustFind checks that each id is among the hits, with the given via.
func mustFind(t *testing.T, r Result, via string, want ...int64) {
	t.Helper()
	for _, id := range want {
		h, ok := hitOf(r, id)
		if !ok {
			t.Errorf("%s not found; %s", nameOf(id), describe(r))
			continue
		}
		if h.Via != via {
			t.Errorf("%s found via %q, want %q", nameOf(id), h.Via, via)
		}
	}
}

func mustNotFind(t *testing.T, r Result, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		if _, ok := hitOf(r, id); ok {
			t.Errorf("%s found; %s", nameOf(id), describe(r))
		}
	}
}

func TestTwoCharacterWords(t *testing.T) {
	// 社保: in the name of 社保卡申领, the alias of 城乡居民基本养老保险参保登记,
	// the text of 失业保险金申领 and 灵活就业人员参保登记; via the synonym
	// 社会保险 in the text of 灵活就业人员参保登记 too.
	r := search(t, "社保")
	if got, want := ids(r), []int64{7, 6, 21, 20}; !slices.Equal(got, want) {
		t.Errorf("社保: got %v, want %v; %s", got, want, describe(r))
	}
	mustFind(t, r, "", 7, 21, 20)
	mustFind(t, r, "alias", 6)

	r = search(t, "低保")
	mustFind(t, r, "alias", 8)
	if r.Total != 1 {
		t.Errorf("低保: %s", describe(r))
	}

	// 户口: the synonym 户籍 in a name; the alias 报户口 and the text 户口簿
	// directly. Name (through a synonym) above alias above text.
	r = search(t, "户口")
	if got, want := ids(r), []int64{11, 12}; !slices.Equal(got, want) {
		t.Errorf("户口: got %v, want %v; %s", got, want, describe(r))
	}
	mustFind(t, r, "synonym", 11)
	mustFind(t, r, "alias", 12)
}

func TestWordsInsideNames(t *testing.T) {
	// 执照 is in no name; 个体工商户设立登记 has it through its alias 营业执照.
	r := search(t, "执照")
	mustFind(t, r, "alias", 1, 2)
	mustNotFind(t, r, 3, 23)
	// Text matches rank below alias matches.
	if r.Hits[0].ID != 1 || r.Hits[1].ID != 2 {
		t.Errorf("执照: %s", describe(r))
	}

	// 施工许可 is found inside 建设工程施工许可 by its characters.
	r = search(t, "施工许可")
	mustFind(t, r, "", 5)
	if h, _ := hitOf(r, 5); !slices.Equal(h.NameMarks, [][2]int{{4, 8}}) {
		t.Errorf("施工许可 marks %v", h.NameMarks)
	}
	if r.Total != 1 {
		t.Errorf("施工许可: %s", describe(r))
	}

	// Characters present but not adjacent do not match.
	r = search(t, "工商户变更注销")
	if r.Total != 0 {
		t.Errorf("工商户变更注销: %s", describe(r))
	}
	// A single character.
	r = search(t, "签")
	mustFind(t, r, "", 10)
}

func TestPinyin(t *testing.T) {
	for _, q := range []string{"shebao", "sb", "She Bao", "SHEBAO", "ｓｈｅｂａｏ", "she-bao"} {
		r := search(t, q)
		mustFind(t, r, "pinyin", 7, 6) // name 社保卡申领, alias 社保
		if len(r.Hits) == 0 || r.Hits[0].ID != 7 {
			t.Errorf("%q: %s", q, describe(r))
		}
		if h, _ := hitOf(r, 7); !slices.Equal(h.NameMarks, [][2]int{{0, 2}}) {
			t.Errorf("%q: marks %v", q, h.NameMarks)
		}
	}
	mustFind(t, search(t, "dibao"), "pinyin", 8)
	mustFind(t, search(t, "db"), "pinyin", 8)
	for _, q := range []string{"yingyezhizhao", "yyzz", "YYZZ", "ying ye zhi zhao"} {
		r := search(t, q)
		mustFind(t, r, "pinyin", 1, 2)
		if h, _ := hitOf(r, 1); len(h.NameMarks) != 0 {
			t.Errorf("%q: 营业执照 is not in the name, marks %v", q, h.NameMarks)
		}
	}
	// Pinyin inside a name, and a character with two readings (行 hang).
	mustFind(t, search(t, "shigongxuke"), "pinyin", 5)
	mustFind(t, search(t, "yinhang"), "pinyin", 24)
	// Pinyin of a synonym key.
	mustFind(t, search(t, "kaidian"), "pinyin", 4, 1)
	// Initials match the start of a name or alias only: sq is not 申请.
	r := search(t, "jzz") // 居住证
	mustFind(t, r, "pinyin", 9, 10)
	// Latin text is still matched as written.
	mustFind(t, search(t, "etc"), "", 26)
	// A single syllable is too loose to be pinyin.
	if r := search(t, "bao"); r.Total != 0 {
		t.Errorf("bao: %s", describe(r))
	}
}

func TestSynonyms(t *testing.T) {
	// 开店 is an alias of 个体工商户设立登记, and a synonym of its name,
	// which counts more.
	r := search(t, "开店")
	mustFind(t, r, "synonym", 1, 23, 4)
	if r.Total != 3 {
		t.Errorf("开店: %s", describe(r))
	}
	r = search(t, "身份证")
	mustFind(t, r, "", 13, 14, 15)
	r = search(t, "户口")
	mustFind(t, r, "synonym", 11)
}

func TestTypos(t *testing.T) {
	for _, c := range []struct {
		q, corrected string
		want         int64
	}{
		{"营业执找", "营业执照", 1},
		{"居住正", "居住证", 9},
		{"施工许年", "施工许可", 5},
		{"居民身分证", "居民身份证", 13},
	} {
		r := search(t, c.q)
		if r.Corrected != c.corrected {
			t.Errorf("%s: corrected %q, want %q", c.q, r.Corrected, c.corrected)
		}
		mustFind(t, r, "typo", c.want)
	}
	// A query with hits is never corrected.
	for _, q := range []string{"居住证", "营业执照", "施工许可", "社保"} {
		if r := search(t, q); r.Corrected != "" || r.Total == 0 {
			t.Errorf("%s: %s", q, describe(r))
		}
	}
	// Two characters, or a guess, are not corrected.
	for _, q := range []string{"社报", "居正", "我要办", "工可"} {
		if r := search(t, q); r.Total != 0 || r.Corrected != "" {
			t.Errorf("%s: %s", q, describe(r))
		}
	}
	// The correction keeps the other words and the filter.
	r := testIndex().Search(Query{Text: "居住正 签注", Tags: []string{"depth:4"}})
	if r.Corrected != "居住证 签注" || len(r.Hits) != 1 || r.Hits[0].ID != 10 {
		t.Errorf("居住正 签注: %s", describe(r))
	}
}

func TestRanking(t *testing.T) {
	// Name above alias above text, popular first among equals.
	r := search(t, "登记")
	for i := 1; i < len(r.Hits); i++ {
		if r.Hits[i].Score > r.Hits[i-1].Score {
			t.Fatalf("scores not descending: %s", describe(r))
		}
	}
	// All names with 登记 come before 婚姻登记处 in text; among names, by
	// popularity: 灵活就业人员参保登记 (9000) first.
	if r.Hits[0].ID != 23 && r.Hits[0].ID != 21 {
		t.Errorf("登记: %s", describe(r))
	}
	// The exact full name comes first, above a more popular item whose name
	// contains it.
	r = search(t, "个体工商户设立登记")
	if got := ids(r); len(got) < 2 || got[0] != 1 || got[1] != 23 {
		t.Errorf("exact name: %s", describe(r))
	}
	if h := r.Hits[0]; !slices.Equal(h.NameMarks, [][2]int{{0, 9}}) {
		t.Errorf("marks %v", h.NameMarks)
	}
	// So does it when typed in two words.
	r = search(t, "个体工商户 设立登记")
	if got := ids(r); len(got) < 2 || got[0] != 1 {
		t.Errorf("exact name in two words: %s", describe(r))
	}
	// Alias (20) above text (10) for 营业执照.
	r = search(t, "营业执照")
	if got, want := ids(r), []int64{1, 2}; !slices.Equal(got, want) {
		t.Errorf("营业执照: %s", describe(r))
	}
}

func TestHighlight(t *testing.T) {
	// Punctuation in the name: marks are in the caller's runes.
	r := search(t, "机动车驾驶证")
	h, ok := hitOf(r, 25)
	if !ok || !slices.Equal(h.NameMarks, [][2]int{{1, 7}}) {
		t.Errorf("机动车驾驶证: %v %s", h.NameMarks, describe(r))
	}
	// Two words, two marks.
	r = search(t, "居民 申领")
	h, _ = hitOf(r, 13)
	if !slices.Equal(h.NameMarks, [][2]int{{0, 2}, {5, 7}}) {
		t.Errorf("居民 申领: %v", h.NameMarks)
	}
	// A synonym in the name is marked.
	h, _ = hitOf(search(t, "户口"), 11)
	if !slices.Equal(h.NameMarks, [][2]int{{0, 2}}) {
		t.Errorf("户口 → 户籍: %v", h.NameMarks)
	}
	// Latin case folding keeps rune positions.
	h, _ = hitOf(search(t, "etc"), 26)
	if !slices.Equal(h.NameMarks, [][2]int{{0, 3}}) {
		t.Errorf("etc: %v", h.NameMarks)
	}
}

func TestTagsAndPaging(t *testing.T) {
	ix := testIndex()
	// Browse by tag: popularity order.
	r := ix.Search(Query{Tags: []string{"dept:gaj"}})
	if got, want := ids(r), []int64{13, 9, 14, 11, 12, 10, 15}; !slices.Equal(got, want) {
		t.Errorf("dept:gaj: %v", got)
	}
	// AND of tags.
	r = ix.Search(Query{Tags: []string{"dept:gaj", "depth:3"}})
	if got, want := ids(r), []int64{9}; !slices.Equal(got, want) || r.Total != 1 {
		t.Errorf("dept:gaj depth:3: %v", got)
	}
	r = ix.Search(Query{Text: "登记", Tags: []string{"theme:户籍办理"}})
	if got, want := ids(r), []int64{11, 12}; !slices.Equal(got, want) {
		t.Errorf("登记 theme:户籍办理: %v", got)
	}
	if r := ix.Search(Query{Text: "登记", Tags: []string{"dept:nobody"}}); r.Total != 0 || len(r.Hits) != 0 {
		t.Errorf("unknown tag: %+v", r)
	}
	// No text, no tags: everything by popularity.
	if r := ix.Search(Query{}); r.Total != len(testDocs) || r.Hits[0].ID != 23 {
		t.Errorf("browse all: %s", describe(r))
	}

	// Pages put together are the whole list, and Total counts all.
	for _, q := range []Query{{Text: "登记"}, {Text: "许可"}, {Text: "shebao"}, {Tags: []string{"level:3"}}, {Text: "居民 申领"}, {Text: "营业执找"}} {
		all := ix.Search(Query{Text: q.Text, Tags: q.Tags, Limit: 1000})
		var paged []int64
		for off := 0; off < all.Total+3; off += 3 {
			p := ix.Search(Query{Text: q.Text, Tags: q.Tags, Offset: off, Limit: 3})
			if p.Total != all.Total {
				t.Errorf("%+v offset %d: total %d, want %d", q, off, p.Total, all.Total)
			}
			paged = append(paged, ids(p)...)
		}
		if !slices.Equal(paged, ids(all)) || len(paged) != all.Total {
			t.Errorf("%+v: pages %v, all %v (total %d)", q, paged, ids(all), all.Total)
		}
	}
	if r := ix.Search(Query{Text: "登记", Limit: 2}); len(r.Hits) != 2 || r.Total < 5 {
		t.Errorf("limit: %s", describe(r))
	}
}

func TestInputHygiene(t *testing.T) {
	for _, q := range []string{"  社保  ", "社保！", "「社保」", "社保\t", "ＳＨＥＢＡＯ"} {
		if r := search(t, q); len(r.Hits) == 0 || r.Hits[0].ID != 7 {
			t.Errorf("%q: %s", q, describe(r))
		}
	}
	// Only the first 50 runes count: the word after them is not required.
	q := "社保" + strings.Repeat("，", 48) + "不存在的词"
	if r := search(t, q); r.Total == 0 {
		t.Errorf("cut: %s", describe(r))
	}
	q = "社保" + strings.Repeat("，", 40) + "不存在的词"
	if r := search(t, q); r.Total != 0 {
		t.Errorf("not cut: %s", describe(r))
	}
	for _, q := range []string{"", "   ", "！？。", "\xff\xfe", strings.Repeat("登记", 1000), strings.Repeat("a", 500), strings.Repeat("sb ", 100)} {
		_ = search(t, q)
	}
	if r := search(t, "！？。"); r.Total != len(testDocs) {
		t.Errorf("punctuation only browses: %s", describe(r))
	}
}

func TestEmptyIndex(t *testing.T) {
	for _, ix := range []*Index{nil, Build(nil, Options{}), Build([]Doc{{ID: 1}}, Options{})} {
		for _, q := range []Query{{}, {Text: "社保"}, {Text: "yyzz"}, {Tags: []string{"x"}}, {Text: "营业执找"}} {
			r := ix.Search(q)
			if len(r.Hits) > r.Total {
				t.Errorf("%+v: %+v", q, r)
			}
		}
	}
	if n := Build(testDocs, Options{}).Len(); n != len(testDocs) {
		t.Errorf("Len %d", n)
	}
}

func TestConcurrentSearch(t *testing.T) {
	ix := testIndex()
	want := map[string][]int64{}
	queries := []string{"社保", "yyzz", "营业执找", "登记", "户口", "居民 申领", ""}
	for _, q := range queries {
		want[q] = ids(ix.Search(Query{Text: q}))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				q := queries[(g+i)%len(queries)]
				if got := ids(ix.Search(Query{Text: q})); !slices.Equal(got, want[q]) {
					t.Errorf("%s: %v, want %v", q, got, want[q])
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzSearch(f *testing.F) {
	for _, s := range []string{"社保", "shebao", "sb", "营业执找", "个体工商户 设立登记", "《机动车驾驶证》", "ＥＴＣ", "\xff", "a b c d e f g h i j", "登记登记登记"} {
		f.Add(s, 0, 10, "level:3")
	}
	ix := testIndex()
	f.Fuzz(func(t *testing.T, text string, off, lim int, tag string) {
		r := ix.Search(Query{Text: text, Tags: []string{tag}, Offset: off, Limit: lim})
		if len(r.Hits) > r.Total || len(r.Hits) > MaxLimit {
			t.Fatalf("%d hits of %d", len(r.Hits), r.Total)
		}
		for _, h := range r.Hits {
			n := len([]rune(nameOf(h.ID)))
			last := -1
			for _, m := range h.NameMarks {
				if m[0] < 0 || m[0] >= m[1] || m[1] > n || m[0] <= last {
					t.Fatalf("bad marks %v for %s", h.NameMarks, nameOf(h.ID))
				}
				last = m[1]
			}
		}
	})
}
