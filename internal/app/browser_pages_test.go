package app_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Every page a browser test's journey visits is checked in four
// configurations — normal and 关怀模式, desktop and phone — on the tab the
// journey uses, without walking the journey four times: open and press
// call visited, which, the first time a page (by its path, ids left out)
// comes up in a run of the tests, switches the tab through the four
// configurations, checks each and puts the tab back as it was.
//
// The viewport is set by CDP emulation, as resize does; 关怀模式 by the
// class on <html>, which is all the server's cookie changes for the
// stylesheet (the header button's words aside: the home page test presses
// the real button too). In each configuration:
//
//   - axe-core, failing on serious and critical violations; in 关怀模式
//     with color-contrast-enhanced (7:1). To keep the time small, all the
//     rules run in the first configuration only: the four differ only in
//     the class and the viewport, so the other three run the rules that
//     depend on how the page is drawn (layoutRules), and the colour rules
//     (colourRules) once in each mode, since no colour of app.css depends
//     on the width (internal/web's TestStylesheetContrast reads them all);
//   - at phone size, no sideways scrolling (checkNoSideScroll) and a
//     header, with 菜单 folded, of at most a fifth of the screen;
//   - at desktop size, the navigation shown without opening 菜单;
//   - radio buttons and checkboxes at least as large as the type (1em of
//     <html>: 16px, 21px in 关怀模式).

// layoutRules are axe's rules whose results depend on the size and place
// of things on the screen, colourRules those that depend on the colours.
var (
	layoutRules = []string{"target-size", "scrollable-region-focusable"}
	colourRules = []string{"color-contrast", "link-in-text-block"}
)

// pageShots names the pages whose screenshots at phone size, normal and
// in 关怀模式, the checks save, by page key.
var pageShots = map[string]string{
	"/workbench/queue/submitted": "checks-queue",
	"/items/{id}":                "checks-guide",
}

// checkedPages are the keys of the pages checked so far in this run of the
// tests: a page that one test's journey checked is not checked again in
// another's.
var checkedPages sync.Map

// pageChecks is what the checks of one browser remember.
type pageChecks struct {
	env  browserEnv
	mu   sync.Mutex
	size map[*chromedp.Target]size // the size each tab was last set to

	pages int           // pages checked
	took  time.Duration // in checkPage, all told
}

type pageChecksKey struct{}

// withPageChecks gives the browser of ctx its checks, and logs at the end
// of the test what they cost.
func withPageChecks(t *testing.T, ctx context.Context, env browserEnv) context.Context {
	c := &pageChecks{env: env, size: map[*chromedp.Target]size{}}
	t.Cleanup(func() {
		t.Logf("page checks: %d new pages in four configurations, %s", c.pages, c.took.Round(time.Millisecond))
	})
	return context.WithValue(ctx, pageChecksKey{}, c)
}

func checksOf(ctx context.Context) *pageChecks {
	c, _ := ctx.Value(pageChecksKey{}).(*pageChecks)
	return c
}

// tabSize is the size the tab was last set to; a new tab is desktop-sized.
func tabSize(ctx context.Context) size {
	c := checksOf(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if sz, ok := c.size[tabKey(ctx)]; ok {
		return sz
	}
	return desktop
}

func setTabSize(ctx context.Context, sz size) {
	if c := checksOf(ctx); c != nil {
		c.mu.Lock()
		c.size[tabKey(ctx)] = sz
		c.mu.Unlock()
	}
}

func tabKey(ctx context.Context) *chromedp.Target { return chromedp.FromContext(ctx).Target }

var idSegment = regexp.MustCompile(`/[^/]*[0-9][^/]*`)

// visited checks the page in the tab in the four configurations, unless
// a page with the same key was checked before (checkedPages).
func visited(t *testing.T, ctx context.Context) {
	t.Helper()
	c := checksOf(ctx)
	if c == nil {
		return
	}
	key := idSegment.ReplaceAllString(eval[string](t, ctx, `location.pathname`), "/{id}")
	if _, seen := checkedPages.LoadOrStore(key, true); !seen {
		checkPage(t, ctx, key, pageShots[key])
	}
}

// pageState is what one evaluation reads of the page as it is drawn.
type pageState struct {
	widths
	Header, Screen float64  // heights of the header and the viewport
	NavShown       bool     // the first link of the navigation is drawn
	Small          []string // radio buttons and checkboxes smaller than 1em
}

// checkPage checks the page in the four configurations (see above) and
// puts the tab back as it was. With a shot name it saves the screenshots
// at phone size.
func checkPage(t *testing.T, ctx context.Context, what, shot string) {
	t.Helper()
	c := checksOf(ctx)
	began := time.Now()
	defer func() {
		c.mu.Lock()
		c.pages++
		c.took += time.Since(began)
		c.mu.Unlock()
	}()
	was := tabSize(ctx)
	wasElder := hasClass(htmlClass(t, ctx), "elder")
	sizes := []size{was, desktop}
	if !was.phone {
		sizes[1] = phone
	}
	first, coloured := true, map[bool]bool{}
	for _, sz := range sizes {
		if sz != tabSize(ctx) {
			resize(t, ctx, sz)
		}
		for _, elder := range []bool{wasElder, !wasElder} {
			mode := "normal"
			if elder {
				mode = "关怀模式"
			}
			where := fmt.Sprintf("%s (%s, %s)", what, mode, sz.name)
			s := eval[pageState](t, ctx, fmt.Sprintf(`(() => {
				document.documentElement.classList.toggle('elder', %t);
				const px = parseFloat(getComputedStyle(document.documentElement).fontSize);
				const small = [...document.querySelectorAll('input[type=radio], input[type=checkbox]')].flatMap(i => {
					const r = i.getBoundingClientRect();
					return r.width > 0 && (r.width < px - 0.5 || r.height < px - 0.5) ? [i.name + ' ' + r.width + '×' + r.height] : [];
				});
				const nav = document.querySelector('.site-nav a')?.getBoundingClientRect();
				// The counter tablet's page is a kiosk (data-kiosk): it has no navigation by design.
				const kiosk = !!document.querySelector('.site-header[data-kiosk]');
				return {header: document.querySelector('.site-header')?.getBoundingClientRect().height || 0,
					screen: window.innerHeight, navShown: kiosk || !!nav && nav.width > 0 && nav.height > 0, small};
			})()`, elder))
			s.widths = pageWidths(t, ctx)
			if sz.phone {
				if s.sideScrolls(sz) {
					t.Errorf("%s: the page scrolls sideways: scrollWidth %d, clientWidth %d, innerWidth %d (want ≤ %d); too wide: %v",
						where, s.Scroll, s.Client, s.Inner, sz.width, s.Wide)
				}
				if s.Header > s.Screen/5 {
					t.Errorf("%s: the header is %.0fpx high, more than a fifth of the %.0fpx screen", where, s.Header, s.Screen)
				}
			} else if !s.NavShown {
				t.Errorf("%s: the navigation is folded away at desktop size", where)
			}
			if len(s.Small) > 0 {
				t.Errorf("%s: radio buttons or checkboxes smaller than the type: %v", where, s.Small)
			}
			var rules []string // all
			if !first {
				rules = layoutRules
				if !coloured[elder] {
					rules = slices.Concat(rules, colourRules)
					if elder {
						rules = append(rules, "color-contrast-enhanced")
					}
				}
			}
			axeCheck(t, ctx, c.env, where, elder, rules)
			first, coloured[elder] = false, true
			if sz.phone && shot != "" {
				name := shot + "-phone"
				if elder {
					name = shot + "-elder-phone"
				}
				screenshot(t, ctx, c.env, name)
			}
		}
	}
	if was != tabSize(ctx) {
		resize(t, ctx, was)
	}
	// Put the mode back, and mark the page as checked until it changes,
	// so that runAxe right after this does not repeat the work.
	eval[chromedp.Void](t, ctx, fmt.Sprintf(`(() => {
		document.documentElement.classList.toggle('elder', %t);
		window.zwfwChecked = true;
		new MutationObserver(() => { window.zwfwChecked = false; }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
	})()`, wasElder))
}
