package sms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMask(t *testing.T) {
	tests := map[string]string{
		"13812345678":    "138****5678",
		"+8613812345678": "+86*******5678",
		"12345678":       "123*5678",
		"1234567":        "*******",
		"":               "",
		"１３８１２３４５６７８":    "１３８****５６７８",
	}
	for in, want := range tests {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDevKeepsNewest(t *testing.T) {
	var buf bytes.Buffer
	d := NewDev(slog.New(slog.NewTextHandler(&buf, nil)), 3)
	base := time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC)
	i := 0
	d.now = func() time.Time { i++; return base.Add(time.Duration(i) * time.Minute) }

	if got := d.Recent(); len(got) != 0 {
		t.Fatalf("Recent() on a new Dev = %v", got)
	}
	for n := 1; n <= 5; n++ {
		if err := d.Send(context.Background(), fmt.Sprintf("1381234567%d", n), fmt.Sprintf("验证码 %d", n)); err != nil {
			t.Fatal(err)
		}
	}
	got := d.Recent()
	want := []Message{
		{Mobile: "13812345675", Text: "验证码 5", At: base.Add(5 * time.Minute)},
		{Mobile: "13812345674", Text: "验证码 4", At: base.Add(4 * time.Minute)},
		{Mobile: "13812345673", Text: "验证码 3", At: base.Add(3 * time.Minute)},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Recent() =\n%v\nwant\n%v", got, want)
	}
	// Recent returns a copy.
	got[0].Text = "changed"
	if d.Recent()[0].Text != "验证码 5" {
		t.Fatal("Recent() shares memory with the Dev")
	}

	logs := buf.String()
	if strings.Contains(logs, "1381234567") {
		t.Fatalf("log contains an unmasked number:\n%s", logs)
	}
	for n := 1; n <= 5; n++ {
		if !strings.Contains(logs, fmt.Sprintf("mobile=138****567%d", n)) {
			t.Errorf("log lacks masked number 138****567%d:\n%s", n, logs)
		}
		if !strings.Contains(logs, fmt.Sprintf("验证码 %d", n)) {
			t.Errorf("log lacks text %d:\n%s", n, logs)
		}
	}
}

func TestDevKeepZero(t *testing.T) {
	for _, keep := range []int{0, -5} {
		d := NewDev(slog.New(slog.DiscardHandler), keep)
		if err := d.Send(context.Background(), "13812345678", "hi"); err != nil {
			t.Fatal(err)
		}
		if got := d.Recent(); len(got) != 0 {
			t.Errorf("keep=%d: Recent() = %v, want none", keep, got)
		}
	}
	// A nil logger falls back to slog.Default().
	if err := NewDev(nil, 1).Send(context.Background(), "13812345678", "hi"); err != nil {
		t.Fatal(err)
	}
}

func TestDevErrors(t *testing.T) {
	d := NewDev(slog.New(slog.DiscardHandler), 5)
	if err := d.Send(context.Background(), " ", "hi"); !errors.Is(err, ErrNoMobile) {
		t.Errorf("empty mobile: %v", err)
	}
	if err := d.Send(context.Background(), "13812345678", ""); !errors.Is(err, ErrNoText) {
		t.Errorf("empty text: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Send(ctx, "13812345678", "hi"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	if got := d.Recent(); len(got) != 0 {
		t.Errorf("failed sends were kept: %v", got)
	}
}

func TestDevConcurrent(t *testing.T) {
	const keep, workers, each = 10, 8, 50
	d := NewDev(slog.New(slog.DiscardHandler), keep)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := d.Send(context.Background(), "13812345678", fmt.Sprintf("%d-%d", w, i)); err != nil {
					t.Error(err)
				}
				_ = d.Recent()
			}
		})
	}
	wg.Wait()
	got := d.Recent()
	if len(got) != keep {
		t.Fatalf("len(Recent()) = %d, want %d", len(got), keep)
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.After(got[i-1].At) {
			t.Fatalf("Recent() not newest first at %d: %v", i, got)
		}
	}
}
