package exchange_test

import (
	"bytes"
	"reflect"
	"testing"
	"unicode"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/catalog/item"
)

// fuzzImport is what every catalog import must do with anyone's file:
// refuse it with an invalid error in Chinese, or accept items that are
// valid, pass the quality rules, and are written out and read back (in
// the same format) as the same items and bundles.
func fuzzImport(t *testing.T, data []byte, f exchange.Format) {
	items, rows, err := exchange.CheckImport(bytes.NewReader(data), f, fuzzDepartments)
	if err != nil {
		if !apperr.Is(err, apperr.Invalid) || !hasHan(apperr.MessageOf(err)) {
			t.Fatalf("refused without an invalid error in Chinese: %v", err)
		}
		return
	}
	for _, it := range items {
		if err := it.Validate(); err != nil {
			t.Fatalf("accepted an invalid item: %v", err)
		}
		if ps := it.Problems(); len(ps) > 0 {
			t.Fatalf("accepted an item failing quality rules: %+v", ps)
		}
	}
	var out bytes.Buffer
	if err := exchange.Write(&out, f, items, bundlesOf(rows)); err != nil {
		t.Fatalf("accepted items cannot be written: %v", err)
	}
	again, againRows, err := exchange.CheckImport(bytes.NewReader(out.Bytes()), f, fuzzDepartments)
	if err != nil {
		t.Fatalf("accepted items, written out, are refused: %v", err)
	}
	if !reflect.DeepEqual(again, items) || !reflect.DeepEqual(bundlesOf(againRows), bundlesOf(rows)) {
		t.Fatalf("accepted items read back differently:\n%+v\n%+v\n%+v\n%+v", items, rows, again, againRows)
	}
}

func bundlesOf(rows []exchange.BundleRow) []exchange.Bundle {
	var out []exchange.Bundle
	for _, r := range rows {
		out = append(out, r.Bundle)
	}
	return out
}

// fuzzSeedItems are the valid CSV row's items, to write in other formats.
func fuzzSeedItems(t testing.TB) []item.Item {
	items, _, err := exchange.CheckImport(bytes.NewReader(csvFile(t, fuzzHeader, fuzzValidRow())), exchange.CSV, fuzzDepartments)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func FuzzImportJSON(f *testing.F) {
	var valid bytes.Buffer
	if err := exchange.Write(&valid, exchange.JSON, fuzzSeedItems(f), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Bytes())
	withBundles, _, _ := bundleFile(f, exchange.JSON)
	f.Add(withBundles)
	f.Add(bytes.Replace(valid.Bytes(), []byte(`"个体工商户设立登记"`), []byte(`"个体工商户设立登记（新办）（新办）"`), 1))
	f.Add([]byte(`{"format":"zwfw-catalog","version":1,"items":[{}]}`))
	f.Add([]byte(`{"items":[{"name":1}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, data, exchange.JSON) })
}

func FuzzImportXLSX(f *testing.F) {
	var valid bytes.Buffer
	if err := exchange.Write(&valid, exchange.XLSX, fuzzSeedItems(f), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Bytes())
	withBundles, _, _ := bundleFile(f, exchange.XLSX)
	f.Add(withBundles)
	f.Add(valid.Bytes()[:valid.Len()/2])
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, data, exchange.XLSX) })
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
