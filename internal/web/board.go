package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
)

// The 表扬台 and 曝光台: public pages of published entries, and the
// supervisors' page to choose, preview, publish and withdraw.

func init() {
	adminTools = append(adminTools, adminTool{"GET /admin/boards", "/admin/boards", "表扬台与曝光台", "选择已办结的办件，预览去除个人信息后的内容，发布或撤下"})
	for k, v := range map[string]string{"board_publish": "发布到表扬台/曝光台", "board_withdraw": "从表扬台/曝光台撤下"} {
		auditActions[k] = v
	}
}

// boardEditor lets in those who may publish on the boards in their own
// region (supervisors; administrators everywhere); each entry's region is
// the board service's check.
var boardEditor = guard{name: "board editor", staff: true, allow: func(who policy.Subject) error {
	return policy.Check(who, policy.Publish, policy.Resource{Kind: policy.Board, RegionCode: who.RegionCode})
}}

type boardPage struct {
	Board  board.Board
	Boards []board.Board
	Page   board.Page
	After  string
}

func (s *Server) boardPage(w http.ResponseWriter, r *http.Request) error {
	b, err := board.ParseBoard(r.PathValue("board"))
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	p, err := s.boards.List(r.Context(), b, after)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "boards", "boards", boardPage{Board: b, Boards: board.Boards, Page: p, After: after})
}

func (s *Server) boardEntry(w http.ResponseWriter, r *http.Request) error {
	b, err := board.ParseBoard(r.PathValue("board"))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这条内容，或已撤下。")
	}
	e, err := s.boards.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if e.Board != b {
		return apperr.New(apperr.NotFound, "没有这条内容，或已撤下。")
	}
	return s.render(w, r, http.StatusOK, "boardentry", "boards", struct {
		Entry   board.Entry
		Preview bool
	}{Entry: e})
}

// boardsAdmin is the supervisors' page: candidates by filter, the entry
// being previewed, and the latest entries with their withdraw forms.
type boardsAdmin struct {
	Sources    []board.Source
	Source     string
	Query      url.Values
	Candidates []board.Candidate
	Preview    *board.Entry
	Draft      url.Values // the publish form as typed
	Managed    []board.Entry
	Error      string
	ErrorField string
	Notice     string
}

func (p boardsAdmin) Get(k string) string   { return p.Query.Get(k) }
func (p boardsAdmin) Typed(k string) string { return p.Draft.Get(k) }

// boardWords are the words of the candidates' filter and list, by source:
// what the search box matches, what the two timing choices mean there,
// the day the dates filter on, the list's caption and what it says when
// empty.
type boardWords struct{ Query, OnTime, Late, Day, Caption, None string }

var boardWordsOf = map[string]boardWords{
	"case":      {"办件编号或事项", "按时办结", "超期办结", "更新日期", "最近办结的办件", "没有符合条件的办件。"},
	"complaint": {"诉求编号、类别或标题", "按时答复", "超时答复", "答复日期", "最近答复的诉求", "没有符合条件的诉求。"},
	"rating":    {"编号、事项或单位", "差评按期整改", "差评超期整改", "评价日期", "附有评价内容的好评和已回访的差评", "没有符合条件的评价。"},
}

// Words are the current source's.
func (p boardsAdmin) Words() boardWords {
	if w, ok := boardWordsOf[p.Source]; ok {
		return w
	}
	return boardWordsOf["case"]
}

func (s *Server) boardsAdmin(w http.ResponseWriter, r *http.Request) error {
	p := boardsAdmin{Notice: map[string]string{"published": "已发布。", "withdrawn": "已撤下。"}[r.URL.Query().Get("done")]}
	return s.renderBoardsAdmin(w, r, http.StatusOK, p)
}

// renderBoardsAdmin fills the lists of the page (filtered by the URL) and
// renders it with what p already holds.
func (s *Server) renderBoardsAdmin(w http.ResponseWriter, r *http.Request, status int, p boardsAdmin) error {
	who := subject(r)
	p.Sources, p.Query = s.boards.Sources(), r.URL.Query()
	p.Source = p.Query.Get("source")
	if p.Source == "" && len(p.Sources) > 0 {
		p.Source = p.Sources[0].Kind()
	}
	f := board.Filter{Query: p.Get("q"), Late: p.Get("late")}
	for _, d := range []struct {
		name string
		into *calendar.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := p.Get(d.name); v != "" {
			day, err := calendar.ParseDate(v)
			if err != nil {
				return apperr.New(apperr.Invalid, "日期应为“年-月-日”，如 2026-12-01。")
			}
			*d.into = day
		}
	}
	if f.Late != "" && f.Late != "late" && f.Late != "ontime" {
		return apperr.New(apperr.Invalid, "时效筛选无效。")
	}
	var err error
	if p.Candidates, err = s.boards.Candidates(r.Context(), who, p.Source, f); err != nil {
		return err
	}
	if p.Managed, err = s.boards.Managed(r.Context(), who, 50); err != nil {
		return err
	}
	return s.render(w, r, status, "boardsadmin", "admin", p)
}

// boardDraft reads the publish form.
func boardDraft(r *http.Request) (board.Draft, error) {
	f := r.PostForm
	id, err := strconv.ParseInt(f.Get("id"), 10, 64)
	if err != nil {
		return board.Draft{}, apperr.New(apperr.Invalid, "请先选择要发布的内容。")
	}
	return board.Draft{Board: board.Board(f.Get("board")), Source: f.Get("source"), SourceID: id, Title: f.Get("title"), Note: f.Get("note")}, nil
}

// boardPreview shows the entry as the public would see it, with the form
// to publish it (or to change the words first).
func (s *Server) boardPreview(w http.ResponseWriter, r *http.Request) error {
	d, err := boardDraft(r)
	if err == nil {
		var e board.Entry
		if e, err = s.boards.Preview(r.Context(), subject(r), d); err == nil {
			return s.renderBoardsAdmin(w, r, http.StatusOK, boardsAdmin{Preview: &e, Draft: r.PostForm})
		}
	}
	return s.boardRefused(w, r, err)
}

func (s *Server) boardPublish(w http.ResponseWriter, r *http.Request) error {
	d, err := boardDraft(r)
	if err == nil {
		var e board.Entry
		if e, err = s.boards.Publish(r.Context(), subject(r), meta(r), d); err == nil {
			http.Redirect(w, r, "/boards/"+string(e.Board)+"/"+strconv.FormatInt(e.ID, 10), http.StatusSeeOther)
			return nil
		}
	}
	return s.boardRefused(w, r, err)
}

func (s *Server) boardWithdraw(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这条内容。")
	}
	if err := s.boards.Withdraw(r.Context(), subject(r), meta(r), id, r.PostForm.Get("reason")); err != nil {
		return s.boardRefused(w, r, err)
	}
	http.Redirect(w, r, "/admin/boards?done=withdrawn", http.StatusSeeOther)
	return nil
}

// boardRefused shows the page again with why, and what was typed.
func (s *Server) boardRefused(w http.ResponseWriter, r *http.Request, err error) error {
	return formError(err, func(status int, message string) error {
		p := boardsAdmin{Error: message, Draft: r.PostForm}
		if strings.HasSuffix(r.URL.Path, "/withdraw") {
			p.ErrorField = "wd-" + r.PathValue("id")
		}
		return s.renderBoardsAdmin(w, r, status, p)
	})
}
