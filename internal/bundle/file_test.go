package bundle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// admin imports and exports the whole catalog, as the command line does.
var admin = policy.Subject{Kind: policy.Staff, Name: "系统管理员", Roles: []policy.Role{policy.Admin}}

// emptyInstallation is another installation on db's kind of database:
// the district's departments, no items, no bundles.
func emptyInstallation(t *testing.T, db *store.DB) (*store.DB, *bundle.Service) {
	t.Helper()
	other := storetest.SQLite(t)
	if db.Dialect == store.Postgres {
		other = storetest.Postgres(t)
	}
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China)) // the fixture's: the items' times are exported
	if _, err := demo.SeedDistrict(context.Background(), other, clk); err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(other)
	items := catalog.NewStore(other, regions, clk)
	return other, bundle.New(other, items, regions, casework.New(other, items, clk, calendar.New(nil)), clk)
}

func exportCatalog(t *testing.T, svc *bundle.Service, f exchange.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := svc.ExportCatalog(context.Background(), admin, &buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func importCatalog(t *testing.T, svc *bundle.Service, file []byte, f exchange.Format) bundle.ImportResult {
	t.Helper()
	res, err := svc.ImportCatalog(context.Background(), admin, audit.Meta{}, bytes.NewReader(file), f, "导入员", nil)
	if ie := (*exchange.ImportError)(nil); errors.As(err, &ie) {
		t.Fatal(ie.Detail())
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// cells is every cell of every sheet of an XLSX file, by sheet.
func cells(t *testing.T, file []byte) map[string][][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	out := map[string][][]string{}
	for _, name := range x.GetSheetList() {
		if out[name], err = x.GetRows(name); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameFile compares two exports: JSON byte for byte, XLSX cell by cell
// (the zip's own metadata may differ).
func sameFile(t *testing.T, f exchange.Format, want, got []byte) {
	t.Helper()
	if f == exchange.JSON {
		w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
		for i := range min(len(w), len(g)) {
			if w[i] != g[i] {
				t.Fatalf("the export changed at line %d: %q, then %q", i+1, w[i], g[i])
			}
		}
		if len(w) != len(g) {
			t.Fatalf("the export changed: %d lines, then %d", len(w), len(g))
		}
		return
	}
	w, g := cells(t, want), cells(t, got)
	if !reflect.DeepEqual(w, g) {
		for name := range w {
			if !reflect.DeepEqual(w[name], g[name]) {
				t.Errorf("sheet %s changed:\n%q\nthen\n%q", name, w[name], g[name])
			}
		}
		t.Fatalf("the export changed")
	}
}

// Export, import into an empty installation, export again: the same
// file, bundles and all, in JSON and in XLSX.
func TestCatalogFileRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		draft := bundle.Bundle{Name: "参保一件事", Theme: "社会保障", Items: []int64{f.insurance.ID, f.cert.ID},
			Fields: []bundle.Field{{ItemID: f.insurance.ID, ItemKey: "insured_name", From: "child_name"}}}
		if err := f.svc.Save(ctx, f.manager, audit.Meta{}, &draft); err != nil {
			t.Fatal(err)
		}
		for _, format := range []exchange.Format{exchange.JSON, exchange.XLSX} {
			t.Run(string(format), func(t *testing.T) {
				file := exportCatalog(t, f.svc, format)
				other, svc := emptyInstallation(t, db)
				res := importCatalog(t, svc, file, format)
				if res.Created != 3 || res.Updated != 0 || res.Bundles != 2 {
					t.Errorf("result %+v", res)
				}
				sameFile(t, format, file, exportCatalog(t, svc, format))
				// The published bundle is a guide citizens can apply to.
				list, err := svc.Published(ctx)
				if err != nil || len(list) != 1 || list[0].Name != "出生一件事" || len(list[0].Dependencies) != 1 || len(list[0].Fields) != 1 {
					t.Fatalf("published %+v, %v", list, err)
				}
				if g, err := svc.Guide(ctx, list[0].ID); err != nil || len(g.Parts) != 3 || g.Parts[1].Requires != 0 {
					t.Errorf("guide %+v, %v", g.Parts, err)
				}
				// Again: the items get new versions, the bundles are replaced by name.
				res = importCatalog(t, svc, file, format)
				if res.Created != 0 || res.Updated != 3 || res.Bundles != 2 || count(t, other, "bundles") != 2 {
					t.Errorf("second import %+v", res)
				}
			})
		}
		// The catalog's CSV holds the items only.
		csv := exportCatalog(t, f.svc, exchange.CSV)
		if strings.Contains(string(csv), "出生一件事") {
			t.Error("a bundle in the CSV file")
		}
	})
}

// A bundle naming an item neither in the file nor in the catalog is an
// error at its row, and nothing is imported; one naming items of the
// catalog only needs no items in the file.
func TestCatalogImportRefusesAnUnknownItem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		refused := func(t *testing.T, svc *bundle.Service, file []byte, format exchange.Format) []exchange.RowError {
			t.Helper()
			_, err := svc.ImportCatalog(ctx, admin, audit.Meta{}, bytes.NewReader(file), format, "导入员", nil)
			var ie *exchange.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("imported: %v", err)
			}
			return ie.Rows
		}
		const msg = "没有实施编码为“NO-SUCH-CODE”的事项：文件和事项目录中都没有"

		// JSON: the bundle is the first of the file's bundles.
		file := strings.Replace(string(exportCatalog(t, f.svc, exchange.JSON)), `"`+f.insurance.ImplCode+`"
      ],`, `"NO-SUCH-CODE"
      ],`, 1)
		other, svc := emptyInstallation(t, db)
		rows := refused(t, svc, []byte(file), exchange.JSON)
		if len(rows) != 1 || rows[0].String() != "一件事 第1条记录 实施编码："+msg {
			t.Errorf("%+v", rows)
		}
		if count(t, other, "items") != 0 || count(t, other, "bundles") != 0 {
			t.Error("a refused import changed the catalog")
		}

		// XLSX: the part's row on the 一件事事项 sheet.
		x, err := excelize.OpenReader(bytes.NewReader(exportCatalog(t, f.svc, exchange.XLSX)))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := x.GetCellValue("一件事事项", "C4"); v != f.insurance.ImplCode {
			t.Fatalf("C4 is %q", v)
		}
		x.SetCellValue("一件事事项", "C4", "NO-SUCH-CODE")
		x.SetCellValue("一件事事项", "E3", "") // the prerequisite's material, left out
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			t.Fatal(err)
		}
		x.Close()
		rows = refused(t, svc, buf.Bytes(), exchange.XLSX)
		got := make([]string, len(rows))
		for i, r := range rows {
			got[i] = r.String()
		}
		want := []string{"一件事事项 第3行 免提交材料：填写了前置事项，须写明它的办理结果免交本事项的哪项材料", "一件事事项 第4行 实施编码：" + msg}
		if !slices.Equal(got, want) {
			t.Errorf("errors %q", got)
		}
		if count(t, other, "items") != 0 || count(t, other, "bundles") != 0 {
			t.Error("a refused import changed the catalog")
		}

		// A file of bundles only, whose items the catalog has: it replaces
		// the bundle of its name.
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(exportCatalog(t, f.svc, exchange.JSON), &doc); err != nil {
			t.Fatal(err)
		}
		doc["items"] = json.RawMessage(`[]`)
		doc["bundles"] = json.RawMessage(strings.Replace(string(doc["bundles"]), "新生儿出生后的证、户、医保一次办。", "改过的简介", 1))
		onlyBundles, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if res := importCatalog(t, f.svc, onlyBundles, exchange.JSON); res.Created+res.Updated != 0 || res.Bundles != 1 {
			t.Errorf("result %+v", res)
		}
		if b, err := f.svc.Get(ctx, f.manager, f.birth.ID); err != nil || b.Summary != "改过的简介" || b.Status != bundle.Published {
			t.Errorf("bundle after import %+v, %v", b, err)
		}
		// A clerk may not import the catalog.
		if _, err := f.svc.ImportCatalog(ctx, f.hospital, audit.Meta{}, bytes.NewReader(onlyBundles), exchange.JSON, "x", nil); err == nil {
			t.Error("a clerk imported the catalog")
		}
	})
}

// The demo's four bundles travel in the catalog's XLSX file: exported
// with the demo catalog and imported into an empty installation, they are
// the same bundles. Whether the sheets can express them does not depend
// on the database, and the whole catalog's round trip is the suite's
// costliest import, so it runs on SQLite; TestCatalogFileRoundTrip takes
// bundles through the files on both databases.
func TestDemoBundlesInTheCatalogFile(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole demo catalog")
	}
	t.Parallel() // the package's long pole: beside the others
	db := storetest.SQLite(t)
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.Seed(ctx, db, clk); err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	svc := bundle.New(db, items, regions, casework.New(db, items, clk, calendar.New(nil)), clk)
	if n, err := demo.SeedBundles(ctx, db, svc); err != nil || n != 4 {
		t.Fatalf("bundles %d, %v", n, err)
	}
	file := exportCatalog(t, svc, exchange.XLSX)
	_, empty := emptyInstallation(t, db)
	start := time.Now()
	if res := importCatalog(t, empty, file, exchange.XLSX); res.Bundles != 4 {
		t.Fatalf("result %+v", res)
	}
	t.Logf("imported the demo catalog in %v", time.Since(start))
	want, err := svc.Export(ctx, admin, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := empty.Export(ctx, admin, audit.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("bundles differ:\n%s\nthen\n%s", want, got)
	}
	if !strings.Contains(string(got), `"name": "身后一件事"`) {
		t.Errorf("bundles:\n%s", got)
	}
}
