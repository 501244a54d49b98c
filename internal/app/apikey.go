package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/integration"
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
	// A registered API client (integration) of that name holds the key.
	who := cliSubject("开设接口密钥")
	var k apikey.Key
	var raw string
	if c, cerr := g.Integration.ClientByName(ctx, who, client); cerr == nil {
		k, raw, err = g.Integration.IssueKey(ctx, who, cliMeta, c.ID, cfg.Name, strings.Split(cfg.APIKeyScopes, ","))
	} else if apperr.Is(cerr, apperr.NotFound) {
		k, raw, err = g.APIKeys.Create(ctx, who, cliMeta, apikey.New{Name: cfg.Name, Client: client, Scopes: strings.Split(cfg.APIKeyScopes, ",")})
	} else {
		err = cerr
	}
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
		switch {
		case k.Revoked():
			state = "已停用 " + day(k.RevokedAt)
		case !k.ExpiresAt.IsZero():
			state = "已轮换，可用至 " + day(k.ExpiresAt)
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

// runAPIKeyRotate issues a key like the given one and prints it, once;
// the old key works for the given time more (integration, issue 12).
func runAPIKeyRotate(ctx context.Context, env *environment) error {
	overlap, err := time.ParseDuration(env.args[1])
	if err != nil || overlap < 0 {
		return usageError{errors.New("过渡期应写作 0、90s、30m、72h 这样的时长")}
	}
	if err := requireAuditKeys(env.cfg); err != nil {
		return err
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	until := g.Clock.Now().Add(overlap)
	k, raw, err := g.Integration.RotateKey(ctx, cliSubject("轮换接口密钥"), cliMeta, env.args[0], until)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已开设新接口密钥 %d（%s，%s）；旧密钥可用至 %s。新密钥只显示这一次：\n%s\n",
		k.ID, k.Name, k.Client, until.In(clock.China).Format("2006-01-02 15:04:05"), raw)
	return nil
}

// runAPIClientCreate registers an API client: --name, the rate limit and,
// for a department's system, --client with the department's id.
func runAPIClientCreate(ctx context.Context, env *environment) error {
	perMinute, err := strconv.Atoi(env.args[0])
	if err != nil || env.cfg.Name == "" {
		return usageError{errors.New("用法：zwfw apikey client --name 接入系统名称 [--client 部门编号] 每分钟调用上限")}
	}
	var dept int64
	if env.cfg.APIKeyClient != "" {
		if dept, err = strconv.ParseInt(env.cfg.APIKeyClient, 10, 64); err != nil {
			return usageError{errors.New("--client 应为部门编号")}
		}
	}
	if err := requireAuditKeys(env.cfg); err != nil {
		return err
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	c, err := g.Integration.CreateClient(ctx, cliSubject("登记接入系统"), cliMeta, integration.Client{Name: env.cfg.Name, DepartmentID: dept, PerMinute: perMinute})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已登记接入系统 %d「%s」，每分钟限 %d 次调用。用 zwfw apikey create --client %s 为它开设密钥。\n", c.ID, c.Name, c.PerMinute, c.Name)
	return nil
}

func runAPIKeyLimit(ctx context.Context, env *environment) error {
	perMinute, err := strconv.Atoi(env.args[1])
	if err != nil {
		return usageError{errors.New("每分钟调用上限应为整数")}
	}
	if err := requireAuditKeys(env.cfg); err != nil {
		return err
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	who := cliSubject("修改调用上限")
	c, err := g.Integration.ClientByName(ctx, who, env.args[0])
	if err != nil {
		return err
	}
	if err := g.Integration.SetLimit(ctx, who, cliMeta, c.ID, perMinute); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "接入系统「%s」每分钟调用上限已改为 %d。\n", c.Name, perMinute)
	return nil
}

// runAPIClientRevoke stops a client with all its keys and its webhooks.
func runAPIClientRevoke(ctx context.Context, env *environment) error {
	if err := requireAuditKeys(env.cfg); err != nil {
		return err
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	who := cliSubject("停用接入系统")
	c, err := g.Integration.ClientByName(ctx, who, env.args[0])
	if err != nil {
		return err
	}
	if err := g.Integration.RevokeClient(ctx, who, cliMeta, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "接入系统「%s」及其密钥已停用，立即生效；其事件订阅不再推送。\n", c.Name)
	return nil
}

func runAPIClients(ctx context.Context, env *environment) error {
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	who := cliSubject("查看接入系统")
	clients, err := g.Integration.Clients(ctx, who)
	if err != nil {
		return err
	}
	for _, c := range clients {
		state := ""
		if c.Revoked() {
			state = "  已停用"
		}
		fmt.Fprintf(env.stdout, "%d  %s  部门 %d  每分钟 %d 次%s\n", c.ID, c.Name, c.DepartmentID, c.PerMinute, state)
		grants, err := g.Integration.Directory(ctx, who, c.ID)
		if err != nil {
			return err
		}
		for _, gr := range grants {
			fmt.Fprintf(env.stdout, "    共享 %s（部门 %d，0 为全部）：%s\n", integration.DataName(gr.Data), gr.DepartmentID, gr.Purpose)
		}
	}
	fmt.Fprintf(env.stdout, "共 %d 个接入系统\n", len(clients))
	return nil
}
