package board_test

import (
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/board"
)

func TestRedact(t *testing.T) {
	record := board.Personal{
		Names:     []string{"张三丰", "平顶山市湛河区老张烧烤店"},
		Addresses: []string{"河南省平顶山市湛河区马庄街道建设路12号院3号楼2单元501室", "湛河区姚孟村3组12号"},
		Other:     []string{"zhang.sf@example.com", "AB1234567"},
	}
	for _, c := range []struct {
		name, in, want string
	}{
		{"name by value", "申请人张三丰于12月1日提交申请，张三丰对办理速度表示满意。", "申请人某某于12月1日提交申请，某某对办理速度表示满意。"},
		{"enterprise by value", "平顶山市湛河区老张烧烤店的食品经营许可当日办结。", "某某的食品经营许可当日办结。"},
		{"address by value, cut to the street", "住址：河南省平顶山市湛河区马庄街道建设路12号院3号楼2单元501室。", "住址：河南省平顶山市湛河区马庄街道。"},
		{"address without a street word", "现住湛河区姚孟村3组12号", "现住某地"},
		{"other answers by value", "护照号AB1234567，邮箱zhang.sf@example.com", "护照号（个人信息已隐去），邮箱（个人信息已隐去）"},
		{"身份证号 18", "身份证号码410411199003071234，已核验", "身份证号码（证件号已隐去），已核验"},
		{"身份证号 with X", "证件号：41041119850612002X。", "证件号：（证件号已隐去）。"},
		{"身份证号 lower x", "41041119850612002x", "（证件号已隐去）"},
		{"身份证号 15 digits", "旧证410411850612002号", "旧证（证件号已隐去）号"},
		{"身份证号 full-width", "４１０４１１１９９００３０７１２３４", "（证件号已隐去）"},
		{"统一社会信用代码", "统一社会信用代码91410411MA44ABCD1X，法定代表人：李四", "统一社会信用代码（信用代码已隐去），法定代表人：某某"},
		{"credit code of an institution", "12410400416032467B", "（信用代码已隐去）"},
		{"手机号", "联系电话13812345678。", "联系电话（电话已隐去）。"},
		{"手机号 with +86 and spaces", "请拨打 +86 138 1234 5678 联系", "请拨打 （电话已隐去） 联系"},
		{"手机号 with dashes", "138-1234-5678", "（电话已隐去）"},
		{"two mobiles side by side", "13812345678,13987654321", "（电话已隐去）,（电话已隐去）"},
		{"固话 with area code", "座机0375-2345678转301", "座机（电话已隐去）"},
		{"固话 in brackets", "（0375）2345678", "（电话已隐去）"},
		{"固话 after a label", "电话：2345678", "电话：（电话已隐去）"},
		{"e-mail", "回复至 li.si@mail.example.cn 即可", "回复至 （邮箱已隐去） 即可"},
		{"licence plate", "车辆豫D12345停放", "车辆（车牌已隐去）停放"},
		{"house number after a road", "家住建设路12号院3号楼2单元501室", "家住建设路"},
		{"building after a compound", "朝阳小区3栋2-501反映噪声", "朝阳小区反映噪声"},
		{"village group and number", "姚孟村3组12号", "姚孟村"},
		{"labelled name", "联系人：王秀英，", "联系人：某某，"},
		{"surname and form of address", "王先生和李女士来电", "某先生和某女士来电"},
		{"谢 as a surname", "来电的谢先生", "来电的某先生"},
		// What must stay: the hotline, dates, a case number, amounts, the
		// department's own window, words that only look like a surname.
		{"hotline stays", "请拨打12345政务服务便民热线", "请拨打12345政务服务便民热线"},
		{"dates and amounts stay", "2026年12月7日受理，2026-12-09办结，收费0元，3个工作日", "2026年12月7日受理，2026-12-09办结，收费0元，3个工作日"},
		{"a case number has an identity number's shape and goes too", "办件编号 410411202612070001", "办件编号 （证件号已隐去）"},
		{"document number stays", "依据〔2026〕3号文件", "依据〔2026〕3号文件"},
		{"a long digit run is not a mobile", "流水号 9138123456789", "流水号 9138123456789"},
		{"感谢 is not a surname", "感谢先生们的耐心", "感谢先生们的耐心"},
		{"the street stays", "马庄街道便民服务中心", "马庄街道便民服务中心"},
	} {
		if got := board.Redact(c.in, record); got != c.want {
			t.Errorf("%s:\n in   %s\n got  %s\n want %s", c.name, c.in, got, c.want)
		}
	}
}

// Whatever the text, nothing of a value the record knows survives, and
// redacting twice changes nothing more.
func TestRedactIsThoroughAndStable(t *testing.T) {
	p := board.Personal{Names: []string{"欧阳娜娜"}, Addresses: []string{"湛河区曹镇乡曹镇村5组"}}
	in := "欧阳娜娜（身份证410411200101011237，手机15937512345）住湛河区曹镇乡曹镇村5组，欧阳娜娜的邮箱 ouyang@example.com。"
	out := board.Redact(in, p)
	for _, leak := range []string{"欧阳娜娜", "410411200101011237", "15937512345", "5组", "ouyang"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q survives in %s", leak, out)
		}
	}
	if again := board.Redact(out, p); again != out {
		t.Errorf("redacting twice: %s then %s", out, again)
	}
}

// No input makes a name the record knows survive, and no input panics.
func FuzzRedact(f *testing.F) {
	f.Add("申请人：张三，电话13812345678，住建设路12号")
	f.Fuzz(func(t *testing.T, s string) {
		p := board.Personal{Names: []string{"张三"}}
		out := board.Redact(s, p)
		if strings.Contains(out, "张三") {
			t.Errorf("the name survives: %q → %q", s, out)
		}
	})
}
