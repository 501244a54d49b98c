package web

import (
	"encoding/json"

	"github.com/zwfw/zwfw/internal/stats"
)

// chartJSON is a table's rows for the chart script (static/stats.js),
// carried in a data attribute: the page is whole without it, and the
// script needs nothing inline (the CSP allows no inline script).
func chartJSON(rows []stats.Row) (string, error) {
	type point struct {
		Label     string  `json:"label"`
		Submitted int64   `json:"submitted"`
		Finished  int64   `json:"finished"`
		OnTime    float64 `json:"on_time"`
	}
	pts := make([]point, 0, len(rows))
	for i, r := range rows {
		if i == 30 { // a chart of more bars is unreadable; the table has them all
			break
		}
		pts = append(pts, point{r.Label, r.Submitted, r.Finished, r.OnTimeRate() * 100})
	}
	b, err := json.Marshal(pts)
	return string(b), err
}
