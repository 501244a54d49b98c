package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/httpx"
)

// The 表扬台 and 曝光台 as the API shows them: public, already redacted
// (what the public pages show), newest first.

type boardEntryOut struct {
	ID          int64        `json:"id"`
	Board       board.Board  `json:"board"`
	BoardName   string       `json:"board_name"`
	Title       string       `json:"title"`
	Note        string       `json:"note,omitempty"`
	Subject     string       `json:"subject"`
	Department  string       `json:"department"`
	Region      string       `json:"region"`
	Facts       []board.Fact `json:"facts"`
	Text        string       `json:"text,omitempty"`
	PublishedAt time.Time    `json:"published_at"`
}

func newBoardEntryOut(e board.Entry) boardEntryOut {
	facts := e.Facts
	if facts == nil {
		facts = []board.Fact{}
	}
	return boardEntryOut{ID: e.ID, Board: e.Board, BoardName: e.Board.Name(), Title: e.Title, Note: e.Note, Subject: e.Subject,
		Department: e.Department, Region: e.Region, Facts: facts, Text: e.Text, PublishedAt: e.PublishedAt}
}

func (a *API) listBoard(w http.ResponseWriter, r *http.Request) error {
	b, err := board.ParseBoard(r.PathValue("board"))
	if err != nil {
		return err
	}
	p, err := a.boards.List(r.Context(), b, r.URL.Query().Get("after"))
	if err != nil {
		return err
	}
	out := struct {
		Items []boardEntryOut `json:"items"`
		Next  string          `json:"next,omitempty"`
	}{Items: []boardEntryOut{}, Next: p.Next}
	for _, e := range p.Entries {
		out.Items = append(out.Items, newBoardEntryOut(e))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getBoardEntry(w http.ResponseWriter, r *http.Request) error {
	b, err := board.ParseBoard(r.PathValue("board"))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.Invalid, "编号应为整数。")
	}
	e, err := a.boards.Get(r.Context(), id)
	if err == nil && e.Board != b {
		err = apperr.New(apperr.NotFound, "没有这条内容，或已撤下。")
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newBoardEntryOut(e))
	return nil
}
