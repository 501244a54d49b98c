package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/clock"
)

// runAPIKeyCreate makes a key for another system and prints it, once.
func runAPIKeyCreate(ctx context.Context, env *environment) error {
	cfg := env.cfg
	if cfg.Name == "" || cfg.APIKeyScopes == "" {
		return usageError{errors.New("用法：zwfw apikey create --name 密钥名称 --scope open311 [--client 使用单位或系统]")}
	}
	// Without --client, the key's name stands for who holds it too.
	client := cfg.APIKeyClient
	if client == "" {
		client = cfg.Name
	}
	if err := requireAuditKeys(cfg); err != nil {
		return err // the key's making is audited
	}
	g, err := Build(ctx, cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	k, raw, err := g.APIKeys.Create(ctx, cliSubject("开设接口密钥"), cliMeta, apikey.New{Name: cfg.Name, Client: client,
		Scopes: strings.Split(cfg.APIKeyScopes, ",")})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已开设接口密钥 %d（%s，%s，权限 %s）。请把密钥交给对方妥善保管，它只显示这一次：\n%s\n",
		k.ID, k.Name, k.Client, strings.Join(k.Scopes, " "), raw)
	return nil
}

func runAPIKeyList(ctx context.Context, env *environment) error {
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	keys, err := g.APIKeys.List(ctx, cliSubject("查看接口密钥"))
	if err != nil {
		return err
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(clock.China).Format("2006-01-02 15:04")
	}
	for _, k := range keys {
		state := "使用中"
		if k.Revoked() {
			state = "已停用 " + day(k.RevokedAt)
		}
		fmt.Fprintf(env.stdout, "%d  %s  %s  %s  权限 %s  %s开设 %s  最近使用 %s  %s\n", k.ID, k.Prefix, k.Name, k.Client,
			strings.Join(k.Scopes, " "), k.CreatedBy, day(k.CreatedAt), day(k.LastUsedAt), state)
	}
	fmt.Fprintf(env.stdout, "共 %d 个接口密钥\n", len(keys))
	return nil
}

func runAPIKeyRevoke(ctx context.Context, env *environment) error {
	if err := requireAuditKeys(env.cfg); err != nil {
		return err
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	k, err := g.APIKeys.Revoke(ctx, cliSubject("停用接口密钥"), cliMeta, env.args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已停用接口密钥 %d（%s，%s）。\n", k.ID, k.Prefix, k.Name)
	return nil
}
