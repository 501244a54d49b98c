package demo

import (
	"context"
	"strings"

	"github.com/zwfw/zwfw/internal/webhook"
)

// SeedWebhook subscribes the demo's city platform (PlatformClient, whose
// keys SeedIntegration just made, with the scopes of every event) to every
// event, delivered to url — the demo's own receiver page — and hands the
// secret to that page's inbox, which verifies what it gets as a
// department's system would. Each start listens on a new port and the
// secret is shown once: the subscriptions of earlier starts to the
// receiver page are deleted first. A platform revoked on the admin page of
// an earlier start is not subscribed (false).
func SeedWebhook(ctx context.Context, hooks *webhook.Service, inbox *webhook.Inbox, url string) (bool, error) {
	clients, err := hooks.Clients(ctx, builder) // those in use
	if err != nil {
		return false, err
	}
	for _, c := range clients {
		if c.Name != PlatformClient {
			continue
		}
		old, err := hooks.List(ctx, builder, c.ID)
		if err != nil {
			return false, err
		}
		for _, sub := range old {
			if strings.HasSuffix(sub.URL, "/demo/webhook") {
				if err := hooks.Delete(ctx, builder, demoMeta, sub.ID); err != nil {
					return false, err
				}
			}
		}
		_, secret, err := hooks.Create(ctx, builder, demoMeta, webhook.New{ClientID: c.ID, URL: url, Events: webhook.Types})
		if err != nil {
			return false, err
		}
		inbox.SetSecret(secret)
		return true, nil
	}
	return false, nil
}
