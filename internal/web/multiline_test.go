package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestMultiLineFieldsAreTheTextareas keeps the declared multi-line fields
// and the pages' <textarea>s in step: a textarea left out would have its
// line breaks refused, a name left over would let them into a one-line
// field.
func TestMultiLineFieldsAreTheTextareas(t *testing.T) {
	t.Parallel()
	textarea := regexp.MustCompile(`<textarea[^>]*\bname="([^"{]+)"`)
	found := map[string]bool{}
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFiles.ReadFile(path)
		for _, m := range textarea.FindAllSubmatch(b, -1) {
			found[string(m[1])] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range found {
		if !multiLineFields[name] {
			t.Errorf("<textarea name=%q> is not in multiLineFields", name)
		}
	}
	for name := range multiLineFields {
		if !found[name] {
			t.Errorf("multiLineFields holds %q, which no <textarea> has", name)
		}
	}
}
