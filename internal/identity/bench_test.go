package identity_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// BenchmarkStaffSignInBurst is a shift change: 50 staff sign in at once
// (password and TOTP code, each from its own address) through the
// identity service on a real database. One op is one burst of 50; p50-ms
// and p99-ms are over every sign-in of every burst that got in; busy/op is
// the share answered 系统繁忙 (no hashing slot within the queue bound). Issue 18's goal is
// p99 < 1 s on the 2-core machine.
func BenchmarkStaffSignInBurst(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(c.name, func(b *testing.B) { benchSignInBurst(b, c.open(b)) })
	}
}

func benchSignInBurst(b *testing.B, db *store.DB) {
	const staff = 50
	ctx := context.Background()
	f := newFixture(b, db)
	depts, err := region.NewStore(db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
	if err != nil {
		b.Fatal(err)
	}
	secrets := make([]string, staff)
	for i := range staff {
		_, otpURL, err := f.svc.CreateStaff(ctx, testAdmin, meta, identity.NewStaff{Username: fmt.Sprintf("staff%02d", i),
			Name: "窗口人员", DepartmentID: depts[0].ID, Roles: []policy.Role{policy.Window}, Password: "Staff-Pass-2026x"})
		if err != nil {
			b.Fatal(err)
		}
		u, _ := url.Parse(otpURL)
		secrets[i] = u.Query().Get("secret")
	}
	var times []time.Duration
	var busy int
	var mu sync.Mutex
	b.ResetTimer()
	for b.Loop() {
		f.clk.Advance(30 * time.Second) // a fresh TOTP step: a code is accepted once
		now := f.clk.Now()
		var wg sync.WaitGroup
		for i := range staff {
			code, _ := totp.GenerateCode(secrets[i], now)
			wg.Go(func() {
				start := time.Now()
				_, err := f.svc.SignInStaff(ctx, fmt.Sprintf("staff%02d", i), "Staff-Pass-2026x", code,
					identity.Meta{IP: fmt.Sprintf("10.0.0.%d", i+1), Client: "bench"})
				d := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				if apperr.Is(err, apperr.Unavailable) {
					busy++ // 系统繁忙: no hashing slot came free in time
					return
				}
				if err != nil {
					b.Error(err)
				}
				times = append(times, d)
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(busy)/float64(b.N*staff), "busy/op")
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	at := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))]) / 1e6 }
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}
