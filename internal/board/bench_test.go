package board_test

import (
	"testing"

	"github.com/zwfw/zwfw/internal/board"
)

// BenchmarkRedact redacts a decision's reasons of a typical length, as
// each text of an entry is at publication and preview.
//
//	go test -run XXX -bench Redact ./internal/board/
func BenchmarkRedact(b *testing.B) {
	p := board.Personal{Names: []string{"张三丰", "平顶山市湛河区老张烧烤店", "李四"}, Addresses: []string{"河南省平顶山市湛河区马庄街道建设路12号院3号楼2单元501室"},
		Other: []string{"zhang.sf@example.com", "91410411MA44ABCD1X"}}
	text := "申请人张三丰（身份证410411199003071234，手机13812345678）于2026年12月1日提交食品经营许可申请，经营场所位于建设路12号院3号楼，" +
		"法定代表人：李四，联系电话0375-2345678。经审查，材料齐全，符合《食品经营许可和备案管理办法》的规定，准予许可。"
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		board.Redact(text, p)
	}
}
