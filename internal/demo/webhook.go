package demo

import (
	"context"
	"errors"

	"github.com/zwfw/zwfw/internal/webhook"
)

// SeedWebhook subscribes the demo's API client (the Open311 key that
// SeedAPIKey just made) to every event, delivered to url — the demo's own
// receiver page — and hands the secret to that page's inbox, which
// verifies what it gets as a department's system would. Each start makes
// a new key, so a new subscription; those of the revoked keys get nothing.
func SeedWebhook(ctx context.Context, hooks *webhook.Service, inbox *webhook.Inbox, url string) error {
	clients, err := hooks.Clients(ctx, builder)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if c.Client != apiClient {
			continue
		}
		_, secret, err := hooks.Create(ctx, builder, demoMeta, webhook.New{KeyID: c.KeyID, URL: url, Events: webhook.Types})
		if err != nil {
			return err
		}
		inbox.SetSecret(secret)
		return nil
	}
	return errors.New("the demo's API key is missing: seed it first (SeedAPIKey)")
}
