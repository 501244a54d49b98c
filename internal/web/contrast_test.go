package web_test

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The stylesheet promises a contrast ratio of at least 4.5:1 for text, and
// 7:1 (WCAG AAA) in 关怀模式. This test reads app.css itself, with its
// custom properties and the .elder overrides, and computes the ratio of
// every text colour it sets against the backgrounds that text can sit on,
// so that a colour that breaks the promise fails here without a browser
// (the browser tests' axe pass checks the rendered pages too).
//
// The backgrounds: a rule's own background; else, for text in the header
// or footer, theirs; else every light surface of the page (the page, the
// cards, and each background set without a text colour, such as .notice
// or mark), since links, .muted and .req text appear on all of them.
// Print styles (@media print) are left out: they print black on white.
func TestStylesheetContrast(t *testing.T) {
	t.Parallel()
	css, err := os.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := parseCSS(string(css))
	for _, m := range []struct {
		name  string
		elder bool
		min   float64
	}{{"normal", false, 4.5}, {"关怀模式", true, 7}} {
		t.Run(m.name, func(t *testing.T) {
			checkContrast(t, rules, m.elder, m.min)
		})
	}
}

// contexts names where the background of text that sets no background of
// its own comes from, when it is not the page's light surfaces.
var contexts = []struct{ prefix, from string }{
	{".site-header", ".site-header"},
	{".brand", ".site-header"},
	{".site-nav", ".site-header"},
	{".site-menu", ".site-header"},
	{".nav-form", ".site-header"},
	{".site-footer", ".site-footer"},
	{".muted-badge", ".badge"},
}

func checkContrast(t *testing.T, rules []cssRule, elder bool, min float64) {
	// The declarations of each selector in this mode: in 关怀模式 a rule
	// for ".elder X" adds to and overrides the one for "X".
	decls := map[string]map[string]string{}
	var order []string
	for _, r := range rules {
		sel := r.selector
		if strings.HasPrefix(sel, ".elder ") || sel == ".elder" {
			if !elder {
				continue
			}
			sel = strings.TrimSpace(strings.TrimPrefix(sel, ".elder"))
			if sel == "" {
				sel = ":root"
			}
		}
		if decls[sel] == nil {
			decls[sel] = map[string]string{}
			order = append(order, sel)
		}
		for k, v := range r.decls {
			decls[sel][k] = v
		}
	}
	vars := map[string]string{}
	for k, v := range decls[":root"] {
		if strings.HasPrefix(k, "--") {
			vars[k] = v
		}
	}
	var colour func(sel, prop string) ([3]float64, bool)
	colour = func(sel, prop string) (rgb [3]float64, ok bool) {
		v, set := decls[sel][prop]
		if !set && prop == "background" {
			v, set = decls[sel]["background-color"]
		}
		// A state (a:hover, a[aria-current="page"]) keeps what it does
		// not change.
		if base := statePart.ReplaceAllString(sel, ""); !set && base != sel {
			return colour(base, prop)
		}
		if !set {
			return rgb, false
		}
		for range 5 {
			m := regexp.MustCompile(`^var\((--[\w-]+)\)$`).FindStringSubmatch(v)
			if m == nil {
				break
			}
			v = vars[m[1]]
		}
		switch v {
		case "inherit", "currentColor", "none", "transparent":
			return rgb, false
		}
		rgb, err := parseHex(v)
		if err != nil {
			t.Errorf("%s { %s: %s }: %v (write colours as #rgb or #rrggbb, or a custom property, so that this test can check them)", sel, prop, decls[sel][prop], err)
			return rgb, false
		}
		return rgb, true
	}

	// The light surfaces: the page, the cards, and every background set
	// without a text colour of its own (its text inherits the page's).
	ink, _ := colour(":root", "color")
	page, ok := colour("body", "background")
	if !ok {
		page, _ = colour(":root", "background")
	}
	surfaces := map[string][3]float64{"the page": page}
	if card, ok := colour(":root", "--card"); ok {
		surfaces["var(--card)"] = card
	}
	for _, sel := range order {
		if _, hasColour := colour(sel, "color"); hasColour || sel == ":root" || sel == "body" || inContext(sel) != "" {
			continue
		}
		if bg, ok := colour(sel, "background"); ok {
			surfaces[sel] = bg
		}
	}
	surfaceNames := make([]string, 0, len(surfaces))
	for name := range surfaces {
		surfaceNames = append(surfaceNames, name)
	}
	slices.Sort(surfaceNames)

	check := func(what string, fg, bg [3]float64, on string) {
		if r := contrast(fg, bg); r < min {
			t.Errorf("%s on %s: contrast %.2f:1, want at least %.1f:1", what, on, r, min)
		}
	}
	checked := 0
	for _, sel := range order {
		fg, hasColour := colour(sel, "color")
		bg, hasBg := colour(sel, "background")
		switch {
		case hasColour && hasBg:
			check(sel, fg, bg, "its own background")
		case hasColour:
			if from := inContext(sel); from != "" {
				b, ok := colour(from, "background")
				if !ok {
					t.Errorf("%s sits on %s, which sets no background", sel, from)
					continue
				}
				check(sel, fg, b, from)
				break
			}
			for _, name := range surfaceNames {
				check(sel, fg, surfaces[name], name)
			}
		case hasBg && sel != ":root" && inContext(sel) == "":
			check(sel+" (the page's text colour)", ink, bg, "its own background")
		default:
			continue
		}
		checked++
	}
	// Some rules were read: a stylesheet this test no longer understands
	// must not pass by checking nothing.
	if checked < 20 {
		t.Fatalf("only %d rules with colours found in app.css", checked)
	}
}

// statePart is the pseudo-class or attribute at the end of a selector.
var statePart = regexp.MustCompile(`(:[a-z-]+|\[[^\]]*\])$`)

func inContext(sel string) string {
	for _, c := range contexts {
		if strings.HasPrefix(sel, c.prefix) && sel != c.from {
			return c.from
		}
	}
	return ""
}

type cssRule struct {
	selector string
	decls    map[string]string
}

// parseCSS reads the rules of a stylesheet as simple as app.css: no
// strings with braces in them. The rules inside @media blocks count as
// rules, and so do those inside @supports, except for print; @page and
// the like are skipped. A rule
// with several selectors becomes one rule per selector.
func parseCSS(css string) []cssRule {
	css = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(css, "")
	var rules []cssRule
	var walk func(s string)
	walk = func(s string) {
		for {
			open := strings.IndexByte(s, '{')
			if open < 0 {
				return
			}
			head := strings.TrimSpace(s[:open])
			// The matching brace.
			depth, end := 0, -1
			for i := open; i < len(s); i++ {
				if s[i] == '{' {
					depth++
				} else if s[i] == '}' {
					depth--
					if depth == 0 {
						end = i
						break
					}
				}
			}
			if end < 0 {
				return
			}
			body := s[open+1 : end]
			s = s[end+1:]
			switch {
			case strings.HasPrefix(head, "@media"), strings.HasPrefix(head, "@supports"):
				if !strings.Contains(head, "print") {
					walk(body)
				}
			case strings.HasPrefix(head, "@"):
			default:
				d := map[string]string{}
				for _, decl := range strings.Split(body, ";") {
					k, v, ok := strings.Cut(decl, ":")
					if !ok {
						continue
					}
					v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
					d[strings.TrimSpace(k)] = v
				}
				for _, sel := range strings.Split(head, ",") {
					rules = append(rules, cssRule{strings.Join(strings.Fields(sel), " "), d})
				}
			}
		}
	}
	walk(css)
	return rules
}

func parseHex(v string) ([3]float64, error) {
	var rgb [3]float64
	h, ok := strings.CutPrefix(v, "#")
	if !ok || (len(h) != 3 && len(h) != 6) {
		return rgb, fmt.Errorf("%q is not a #rgb or #rrggbb colour", v)
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	for i := range 3 {
		n, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return rgb, fmt.Errorf("%q is not a #rgb or #rrggbb colour", v)
		}
		rgb[i] = float64(n) / 255
	}
	return rgb, nil
}

// contrast is WCAG 2's contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			if v <= 0.04045 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func TestContrastFormula(t *testing.T) {
	t.Parallel()
	black, _ := parseHex("#000")
	white, _ := parseHex("#ffffff")
	red, _ := parseHex("#a8071a")
	pink, _ := parseHex("#fdecec")
	for _, c := range []struct {
		a, b [3]float64
		want float64
	}{{black, white, 21}, {white, white, 1}, {red, pink, 6.78}} {
		if got := contrast(c.a, c.b); math.Abs(got-c.want) > 0.005 {
			t.Errorf("contrast = %.3f, want %.2f", got, c.want)
		}
	}
}
