package demo

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/board"
)

// SeedBoards publishes a few of the demo's finished cases through the
// board service, as a supervisor would: cases finished in time on the
// 表扬台, cases finished late on the 曝光台, each with the title and note a
// supervisor writes; and, when boards has those sources, a resolved
// complaint and a 好评 on the 表扬台 and a rectified 差评 on the 曝光台. It
// does nothing when entries exist or no case has finished yet.
func SeedBoards(ctx context.Context, boards *board.Service) (int, error) {
	if p, err := boards.List(ctx, board.Praise, ""); err != nil || len(p.Entries) > 0 {
		return 0, err
	}
	meta := audit.Meta{IP: "demo", Client: "zwfw demo"}
	made := 0
	for _, b := range []struct {
		board       board.Board
		late, n     int
		title, note string
	}{
		{board.Praise, 0, 3, "提前办结，群众点赞", "申请人反映材料一次讲清、当天受理，办结后第一时间收到短信通知。"},
		{board.Exposure, 1, 2, "超期办结，已责令整改", "该件超过承诺时限办结。经核查，系审查环节衔接不畅所致，已责成承办部门整改，并纳入季度考核。"},
	} {
		late := map[int]string{0: "ontime", 1: "late"}[b.late]
		cs, err := boards.Candidates(ctx, builder, "case", board.Filter{Late: late, Limit: b.n})
		if err != nil {
			return made, err
		}
		for _, c := range cs {
			title := b.title
			if t := strings.TrimSuffix(c.Subject, "（新办）") + "：" + b.title; b.board == board.Praise && utf8.RuneCountInString(t) <= board.MaxTitle {
				title = t
			}
			if _, err := boards.Publish(ctx, builder, meta, board.Draft{Board: b.board, Source: "case", SourceID: c.ID, Title: title, Note: b.note}); err != nil {
				return made, err
			}
			made++
		}
	}
	// Complaints and ratings, when the service has them as sources: a
	// complaint answered in time and resolved, a 好评 with its comment, and
	// a 差评 with the unit's rectification.
	has := map[string]bool{}
	for _, src := range boards.Sources() {
		has[src.Kind()] = true
	}
	for _, p := range []struct {
		board       board.Board
		source      string
		f           board.Filter
		want        string // the candidate's outcome begins so
		title, note string
	}{
		{board.Praise, "complaint", board.Filter{Late: "ontime", Limit: 50}, "按时答复，已解决", "诉求当天响应、按时解决", "承办单位签收后即与诉求人联系、到现场查看，在答复时限内解决，诉求人确认满意。"},
		{board.Praise, "rating", board.Filter{Limit: 50}, "非常满意", "群众好评：一次办成", ""},
		{board.Exposure, "rating", board.Filter{Limit: 50}, "非常不满意，", "差评回访整改", "收到差评后，承办单位已回访评价人并完成整改。"},
	} {
		if !has[p.source] {
			continue
		}
		cs, err := boards.Candidates(ctx, builder, p.source, p.f)
		if err != nil {
			return made, err
		}
		for _, c := range cs {
			if !strings.HasPrefix(c.Outcome, p.want) {
				continue
			}
			if _, err := boards.Publish(ctx, builder, meta, board.Draft{Board: p.board, Source: p.source, SourceID: c.ID, Title: p.title, Note: p.note}); err != nil {
				return made, err
			}
			made++
			break
		}
	}
	return made, nil
}
