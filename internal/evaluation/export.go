package evaluation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/workbook"
)

// Files is where hand entries' evidence is kept: held when recorded,
// copied into the evidence pack.
type Files interface {
	Holder
	Open(ctx context.Context, sum string) (io.ReadCloser, filestore.Object, error)
}

// The files of the evidence pack.
const (
	ReportFile    = "report.html"          // the A4 report, style inline: open and print to PDF
	WorkbookFile  = "indicators.xlsx"      // every indicator, and each evidence list on a sheet
	ManifestFile  = "archive-manifest.csv" // every finished case of the period and its archive's state
	ChecksumsFile = "SHA256SUMS"           // the SHA-256 of every other file, as sha256sum -c reads it
	EvidenceDir   = "evidence"             // the hand entries' evidence files
)

// Export writes the evidence pack of period p into dir (made if
// missing): the report, the indicators' workbook, the archive
// completeness manifest, the hand entries' evidence files and the
// checksums of them all. It returns the report it wrote and the files
// written. One audit entry records the export before anything is
// written. Administrators only.
func (s *Service) Export(ctx context.Context, who policy.Subject, meta audit.Meta, p Period, dir string) (Report, []string, error) {
	if err := policy.Check(who, policy.Export, policy.Resource{Kind: policy.Evaluation}); err != nil {
		return Report{}, nil, err
	}
	rep, err := s.report(ctx, p)
	if err != nil {
		return rep, nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, EvidenceDir), 0o700); err != nil {
		return rep, nil, fmt.Errorf("无法创建目录 %s：%w", dir, err)
	}
	var written []string
	sums := map[string]string{}
	write := func(name string, fill func(io.Writer) error) error {
		var buf bytes.Buffer
		if err := fill(&buf); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o600); err != nil {
			return err
		}
		h := sha256.Sum256(buf.Bytes())
		sums[name] = hex.EncodeToString(h[:])
		written = append(written, name)
		return nil
	}
	entry := audit.Entry{At: s.when(), ActorID: who.AccountID, Actor: who.Name, Action: "export", Object: fmt.Sprintf("evaluation:%d", p),
		Detail: fmt.Sprintf("导出 %d 年度绩效自评证据包", p), IP: meta.IP, RegionCode: who.RegionCode}
	if err := write(WorkbookFile, func(w io.Writer) error { return s.workbook(ctx, rep, entry, w) }); err != nil {
		return rep, written, err
	}
	if err := write(ReportFile, func(w io.Writer) error { return WriteHTML(w, rep, "") }); err != nil {
		return rep, written, err
	}
	if err := write(ManifestFile, func(w io.Writer) error { return manifest(ctx, s.o.Cases, p, w) }); err != nil {
		return rep, written, err
	}
	for _, l := range rep.Lines {
		if l.Entry == nil || l.Entry.File.SHA256 == "" {
			continue
		}
		name := filepath.ToSlash(filepath.Join(EvidenceDir, l.Code+"-"+safeName(l.Entry.FileName)))
		if err := write(name, func(w io.Writer) error {
			r, _, err := s.o.Files.Open(ctx, l.Entry.File.SHA256)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(w, r)
			return err
		}); err != nil {
			return rep, written, err
		}
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	err = write(ChecksumsFile, func(w io.Writer) error {
		for _, n := range names {
			if _, err := fmt.Fprintf(w, "%s  %s\n", sums[n], n); err != nil {
				return err
			}
		}
		return nil
	})
	return rep, written, err
}

// safeName keeps an uploaded file's name from leaving the folder.
func safeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' || r == ':' {
			return '_'
		}
		return r
	}, filepath.Base(name))
	if name == "" || name == "." || name == ".." {
		return "evidence"
	}
	return name
}

// workbook writes every indicator on one sheet, the result on another,
// and each evidence list on its own.
func (s *Service) workbook(ctx context.Context, rep Report, e audit.Entry, w io.Writer) error {
	b := workbook.New()
	defer b.Close()
	grade := rep.Grade
	if grade == "" {
		grade = "尚无可评分的指标"
	}
	if _, err := workbook.Sheet(b, "评价结果", []any{"项目", "内容"}, workbook.Rows([][]any{
		{"指标体系", rep.System.Name}, {"依据", rep.System.Basis}, {"评价期间", fmt.Sprintf("%d 年", rep.Period)},
		{"总分", rep.Total}, {"等级", grade}, {"已评分指标满分", rep.Scored}, {"已评分指标得分", rep.Points}, {"未评分指标分值", rep.Unscored},
		{"生成时间", rep.At.In(clock.China).Format("2006-01-02 15:04")},
	}), func(r []any) []any { return r }); err != nil {
		return err
	}
	if _, err := workbook.Sheet(b, "指标得分", []any{"编号", "层级", "指标", "分值", "指标值", "得分", "状态", "数据来源", "依据", "评分标准"},
		workbook.Rows(rep.Lines), func(l Line) []any {
			var value, points any = "", "—"
			if l.Leaf {
				value = l.ValueText()
				if l.State == Scored {
					value = l.Value
				}
			}
			if l.State == Scored {
				points = l.Points
			}
			return []any{l.Code, l.Level, l.Name, l.Weight, value, points, stateNames[l.State], l.SourceOf, l.Basis, l.Explain}
		}); err != nil {
		return err
	}
	for _, l := range rep.Lines {
		for i, t := range l.Evidence {
			name := "证据 " + l.Code
			if i > 0 {
				name += "-" + strconv.Itoa(i+1)
			}
			header := make([]any, len(t.Header))
			for j, h := range t.Header {
				header[j] = h
			}
			if _, err := workbook.Sheet(b, name, header, workbook.Rows(t.Rows), func(r []string) []any {
				out := make([]any, len(r))
				for j, c := range r {
					out[j] = c
				}
				return out
			}); err != nil {
				return err
			}
		}
	}
	return b.Write(ctx, s.db, e, w)
}

var stateNames = map[string]string{Scored: "已评分", NotConnected: "未接入数据源", NoData: "本期无数据", NotEntered: "待录入"}

// manifest lists every case finished in p with its archive's state and
// the hash its event chain ends on.
func manifest(ctx context.Context, cases *casework.Service, p Period, w io.Writer) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil { // so that Excel reads it as UTF-8
		return err
	}
	c := csv.NewWriter(w)
	if err := c.Write([]string{"办件编号", "事项", "办理部门", "地区", "状态", "办结时间", "档案完整", "缺少", "事件链末条哈希"}); err != nil {
		return err
	}
	from, to := dates(p)
	err := cases.ArchiveManifest(ctx, Reader, casework.SupervisionFilter{From: from, To: to}, func(a casework.ArchiveStatus) error {
		complete := "否"
		if a.Complete {
			complete = "是"
		}
		return c.Write([]string{a.Number, a.ItemName, a.Department, a.Region, a.Status.Name(), a.UpdatedAt.In(clock.China).Format("2006-01-02 15:04"),
			complete, strings.Join(a.Missing, "；"), a.Head})
	})
	if err != nil {
		return err
	}
	c.Flush()
	return c.Error()
}
