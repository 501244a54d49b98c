package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

var (
	inputTag      = regexp.MustCompile(`<input\b[^>]*>`)
	typeAttr      = regexp.MustCompile(`\btype="([a-z-]+)"`)
	selectOpening = regexp.MustCompile(`<select\b[^>]*\brequired\b[^>]*>\s*(<option[^>]*>)?`)
)

// The templates keep two rules of the HTML standard that the Nu HTML
// Checker found broken: autocomplete="username" belongs to text-like inputs
// (not type="tel"), and a required <select> starts with an empty
// placeholder option so that "nothing chosen" is possible and refused.
func TestTemplatesFollowHTMLRules(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFiles, path)
		if err != nil {
			return err
		}
		src := string(b)
		for _, tag := range inputTag.FindAllString(src, -1) {
			if !strings.Contains(tag, `autocomplete="username"`) {
				continue
			}
			if m := typeAttr.FindStringSubmatch(tag); m != nil && m[1] != "text" && m[1] != "email" {
				t.Errorf("%s: autocomplete=\"username\" on type=%q: %s", path, m[1], tag)
			}
		}
		for _, m := range selectOpening.FindAllStringSubmatch(src, -1) {
			if !strings.Contains(m[1], `value=""`) {
				t.Errorf("%s: required select without an empty first option: %s", path, m[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
