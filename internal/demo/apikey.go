package demo

import (
	"context"
	"strconv"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/policy"
)

// apiClient is who holds the demo's Open311 key.
const apiClient = "演示 Open311 客户端"

// SeedAPIKey makes the demo's Open311 key, which zwfw demo prints at
// start-up: a key is shown only when made, so each start makes a new one
// and revokes the ones made before, so that only the printed key works.
func SeedAPIKey(ctx context.Context, keys *apikey.Service) (string, error) {
	old, err := keys.List(ctx, builder)
	if err != nil {
		return "", err
	}
	for _, k := range old {
		if k.Client == apiClient && !k.Revoked() {
			if _, err := keys.Revoke(ctx, builder, demoMeta, strconv.FormatInt(k.ID, 10)); err != nil {
				return "", err
			}
		}
	}
	_, raw, err := keys.Create(ctx, builder, demoMeta, apikey.New{Name: "演示用 Open311 接口密钥", Client: apiClient,
		Scopes: []string{policy.ScopeOpen311}})
	return raw, err
}
