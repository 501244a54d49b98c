package bundle

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Bundles travel between installations in a JSON file of their own,
// beside the catalog files (catalog/exchange): they name their items by
// 实施编码, which is stable across installations where item ids are not,
// and a bundle is applied after the items it names exist. A section in
// the catalog's files would tie every catalog import to bundles whose
// items may come in another file; a file of their own is imported when
// the catalog is in place.

const (
	fileFormat  = "zwfw-bundles"
	fileVersion = 1
)

// File is the bundles' exchange file.
type File struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Bundles []FileBundle `json:"bundles"`
}

// FileBundle is one bundle of the file, its items by 实施编码.
type FileBundle struct {
	Name         string           `json:"name"`
	Theme        string           `json:"theme,omitempty"`
	Summary      string           `json:"summary,omitempty"`
	Published    bool             `json:"published"`
	Items        []string         `json:"items"`
	Fields       []FileField      `json:"fields,omitempty"`
	Dependencies []FileDependency `json:"dependencies,omitempty"`
}

// FileField is a Field with its item by 实施编码.
type FileField struct {
	Item string `json:"item"`
	Key  string `json:"key"`
	From string `json:"from"`
}

// FileDependency is a Dependency with its items by 实施编码.
type FileDependency struct {
	Item     string `json:"item"`
	Requires string `json:"requires"`
	Material string `json:"material"`
}

// Export writes every bundle as the exchange file, for those who build
// bundles; the export is audited.
func (s *Service) Export(ctx context.Context, who policy.Subject, meta audit.Meta) ([]byte, error) {
	if err := mayManage(who, policy.Edit); err != nil {
		return nil, err
	}
	list, err := s.list(ctx, s.db.Read(), false)
	if err != nil {
		return nil, err
	}
	codes := map[int64]string{}
	code := func(id int64) (string, error) {
		if c, ok := codes[id]; ok {
			return c, nil
		}
		var c string
		if err := s.db.Read().QueryRow(ctx, `SELECT impl_code FROM items WHERE id = ?`, id).Scan(&c); err != nil {
			return "", err
		}
		codes[id] = c
		return c, nil
	}
	f := File{Format: fileFormat, Version: fileVersion, Bundles: []FileBundle{}}
	for _, b := range list {
		fb := FileBundle{Name: b.Name, Theme: b.Theme, Summary: b.Summary, Published: b.Status == Published, Items: []string{}}
		for _, id := range b.Items {
			c, err := code(id)
			if err != nil {
				return nil, err
			}
			fb.Items = append(fb.Items, c)
		}
		for _, fl := range b.Fields {
			c, err := code(fl.ItemID)
			if err != nil {
				return nil, err
			}
			fb.Fields = append(fb.Fields, FileField{Item: c, Key: fl.ItemKey, From: fl.From})
		}
		for _, d := range b.Dependencies {
			c, err := code(d.ItemID)
			if err != nil {
				return nil, err
			}
			r, err := code(d.Requires)
			if err != nil {
				return nil, err
			}
			fb.Dependencies = append(fb.Dependencies, FileDependency{Item: c, Requires: r, Material: d.Material})
		}
		f.Bundles = append(f.Bundles, fb)
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: catalog.ActorName(who), Action: "export",
			Object: "bundles", Detail: fmt.Sprintf("%d 件", len(f.Bundles)), IP: meta.IP, RegionCode: who.RegionCode})
	})
	return append(out, '\n'), err
}

// Import reads the exchange file and stores its bundles — each in place
// of the bundle of the same name, or new — all in one transaction, or,
// when any bundle is wrong, none: the refusal names every problem with
// its bundle. It returns how many bundles it stored.
func (s *Service) Import(ctx context.Context, who policy.Subject, meta audit.Meta, data []byte) (int, error) {
	if err := mayManage(who, policy.Edit); err != nil {
		return 0, err
	}
	if err := mayManage(who, policy.Publish); err != nil {
		return 0, err
	}
	var f File
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return 0, apperr.Wrap(apperr.Invalid, "不是有效的一件事文件："+err.Error(), err)
	}
	if f.Format != fileFormat || f.Version != fileVersion {
		return 0, apperr.New(apperr.Invalid, fmt.Sprintf("不是zwfw一件事文件（format应为“%s”，version应为%d）", fileFormat, fileVersion))
	}
	var problems []string
	var bundles []Bundle
	var statuses []Status
	names := map[string]bool{}
	for i, fb := range f.Bundles {
		b := Bundle{Name: strings.TrimSpace(fb.Name), Theme: strings.TrimSpace(fb.Theme), Summary: strings.TrimSpace(fb.Summary)}
		where := fmt.Sprintf("第%d件「%s」：", i+1, b.Name)
		if names[b.Name] {
			problems = append(problems, where+"文件中重复")
			continue
		}
		names[b.Name] = true
		id := func(code string) int64 {
			var id int64
			err := s.db.Read().QueryRow(ctx, `SELECT id FROM items WHERE impl_code = ?`, strings.TrimSpace(code)).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				problems = append(problems, where+"没有实施编码为 "+code+" 的事项")
			} else if err != nil {
				problems = append(problems, where+err.Error())
			}
			return id
		}
		for _, c := range fb.Items {
			b.Items = append(b.Items, id(c))
		}
		for _, fl := range fb.Fields {
			b.Fields = append(b.Fields, Field{ItemID: id(fl.Item), ItemKey: strings.TrimSpace(fl.Key), From: strings.TrimSpace(fl.From)})
		}
		for _, dp := range fb.Dependencies {
			b.Dependencies = append(b.Dependencies, Dependency{ItemID: id(dp.Item), Requires: id(dp.Requires), Material: strings.TrimSpace(dp.Material)})
		}
		err := s.db.Read().QueryRow(ctx, `SELECT id FROM bundles WHERE name = ?`, b.Name).Scan(&b.ID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		items, err := s.items(ctx, b)
		if err != nil {
			return 0, err
		}
		for _, p := range check(b, items, fb.Published) {
			problems = append(problems, where+p)
		}
		status := Draft
		if fb.Published {
			status = Published
		}
		bundles, statuses = append(bundles, b), append(statuses, status)
	}
	if len(problems) > 0 {
		return 0, apperr.New(apperr.Invalid, fmt.Sprintf("一件事文件有 %d 处问题，未导入任何一件事：%s。", len(problems), strings.Join(problems, "；")))
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		for i := range bundles {
			if err := s.write(ctx, tx, who, &bundles[i], statuses[i]); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: catalog.ActorName(who), Action: "bundle_import",
			Object: "bundles", Detail: fmt.Sprintf("%d 件", len(bundles)), IP: meta.IP, RegionCode: who.RegionCode})
	})
	return len(bundles), err
}
