package item

import (
	"reflect"
	"testing"
)

// A clone shares no list with its original, however deep: the version
// cache hands out clones, and a caller changing one must not change what
// the next caller gets. The check walks the type, so a list field added
// later and forgotten in Clone fails here.
func TestCloneSharesNoList(t *testing.T) {
	var it Item
	fill(reflect.ValueOf(&it).Elem())
	c := it.Clone()
	var walk func(a, b reflect.Value, at string)
	walk = func(a, b reflect.Value, at string) {
		switch a.Kind() {
		case reflect.Slice:
			if a.Len() > 0 && a.Pointer() == b.Pointer() {
				t.Errorf("%s is shared between an item and its clone", at)
			}
			for i := range a.Len() {
				walk(a.Index(i), b.Index(i), at+"[]")
			}
		case reflect.Struct:
			for i := range a.NumField() {
				if a.Type().Field(i).IsExported() {
					walk(a.Field(i), b.Field(i), at+"."+a.Type().Field(i).Name)
				}
			}
		case reflect.Map, reflect.Pointer:
			t.Errorf("%s: clone does not know maps or pointers", at)
		}
	}
	walk(reflect.ValueOf(it), reflect.ValueOf(c), "Item")
	if !reflect.DeepEqual(it, c) {
		t.Fatal("the clone differs from the original")
	}
}

// fill gives every list in v one element, recursively.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}
