package web

import (
	"fmt"
	"net/http"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
)

// A guard states who may open a route. Anyone may open a public route;
// for any other an anonymous visitor is sent to sign in (the staff's page
// or the citizens') and back, and a signed-in one the guard does not let
// in gets its error: 403, or 404 where the policy hides that the thing
// exists. Checks on one object (this case, this department) are not the
// guard's: the policy makes them in the domain methods.
type guard struct {
	name  string                     // as the route table's test names it
	staff bool                       // anonymous visitors sign in on the staff's page
	allow func(policy.Subject) error // nil: a public route
}

// allows returns nil if who may open a route under g; an anonymous
// visitor on a route that needs signing in gets Unauthorized.
func (g guard) allows(who policy.Subject) error {
	if g.allow == nil {
		return nil
	}
	if who.Kind == policy.Anonymous {
		return apperr.New(apperr.Unauthorized, "请先登录。")
	}
	return g.allow(who)
}

// The guards of the route table.
var (
	public   = guard{name: "public"}
	signedIn = guard{name: "signed-in", allow: func(policy.Subject) error { return nil }}
	person   = guard{name: "person", allow: func(who policy.Subject) error {
		if who.Kind != policy.Person {
			return apperr.New(apperr.Forbidden, "网上申请须使用个人或法人账户登录。")
		}
		return nil
	}}
	staff = guard{name: "staff", staff: true, allow: func(who policy.Subject) error {
		if who.Kind != policy.Staff {
			return apperr.New(apperr.Forbidden, "工作台只对工作人员开放。")
		}
		return nil
	}}
	// catalogManager: those with items to edit, all or their department's.
	catalogManager = guard{name: "catalog", staff: true, allow: func(who policy.Subject) error {
		_, err := catalogScope(who)
		return err
	}}
)

// staffMay lets in those the policy allows a on res, a resource that is
// nobody's in particular (the audit log, any account, the calendar).
func staffMay(a policy.Action, res policy.Resource) guard {
	return guard{name: fmt.Sprintf("may %s %s", a, res.Kind), staff: true, allow: func(who policy.Subject) error {
		return policy.Check(who, a, res)
	}}
}

// saying gives g's refusals (403) another message.
func saying(g guard, message string) guard {
	allow := g.allow
	g.allow = func(who policy.Subject) error {
		err := allow(who)
		if apperr.Is(err, apperr.Forbidden) {
			return apperr.New(apperr.Forbidden, message)
		}
		return err
	}
	return g
}

// Resources of the guards: any staff account and any department (ID -1
// is nobody's own), which only administrators may edit.
var (
	anyAccount    = policy.Resource{Kind: policy.Account, OwnerID: -1}
	anyDepartment = policy.Resource{Kind: policy.Department, DepartmentID: -1}
	statistics    = policy.Resource{Kind: policy.Statistics}
	wholeCatalog  = policy.Resource{Kind: policy.Catalog}
)

// route is an entry of the route table.
type route struct {
	pattern string // method and path, as http.ServeMux takes them
	guard   guard
	serve   func(http.ResponseWriter, *http.Request) error
}

// routes is the route table: every page and form of the site, with who
// may open it.
func (s *Server) routes() []route {
	// The admin home opens for those who may open one of its tools.
	adminHome := guard{name: "admin tools", staff: true, allow: func(who policy.Subject) error {
		if len(s.toolsFor(who)) == 0 {
			return apperr.New(apperr.Forbidden, "管理后台只对系统管理员、督查人员和事项管理员开放。")
		}
		return nil
	}}
	return []route{
		// The public site.
		{"GET /{$}", public, s.home},
		{"GET /search", public, s.search},
		{"GET /levels/{level}", public, s.level},
		{"GET /departments", public, s.departments},
		{"GET /departments/{id}", public, s.department},
		{"GET /regions/{code}", public, s.region},
		{"GET /items", public, s.items},
		{"GET /items/{id}", public, s.item},
		{"GET /items/{id}/qr.svg", public, s.itemQR},
		{"GET /items/{id}/forms/{n}", public, s.blankForm},
		{"GET /readiness", public, s.readiness},
		{"GET /lookup", public, s.lookup},
		{"POST /preferences/elder", public, s.setElder},
		{"POST /place", public, s.setPlace},
		{"GET /demo/sms", public, s.demoSMS},
		// The demo's webhook receiver (issue 12).
		{"GET /demo/webhook", public, s.demoWebhook},
		{"POST /demo/webhook", public, s.demoWebhookReceive},
		// Signing in and registering.
		{"GET /signin", public, s.signinPage},
		{"POST /signin/code/send", public, s.sendSigninCode},
		{"POST /signin/code", public, s.signinWithCode},
		{"POST /signin/password", public, s.signinWithPassword},
		{"GET /signin/oidc", public, s.oidcStart},
		{"GET /signin/oidc/callback", public, s.oidcCallback},
		{"GET /signin/forgot", public, s.forgotPage},
		{"POST /signin/forgot/code", public, s.sendResetCode},
		{"POST /signin/forgot", public, s.resetPassword},
		{"GET /privacy", public, s.privacyPage},
		{"GET /register", public, s.registerPage},
		{"POST /register/code", public, s.sendRegisterCode},
		{"POST /register", public, s.register},
		{"GET /staff/signin", public, s.staffSigninPage},
		{"POST /staff/signin", public, s.staffSignin},
		{"POST /signout", public, s.signout},
		// Applying online, and the applicant's cases.
		{"GET /items/{id}/apply", person, s.applyForm},
		{"POST /items/{id}/apply", person, s.apply},
		{"GET /me/cases", person, s.myCases},
		{"GET /me/cases/{id}", signedIn, s.myCase},
		{"POST /me/cases/{id}/materials/{n}", person, s.uploadMaterial},
		{"POST /me/cases/{id}", person, s.applicantAct},
		// A case's papers, for its applicant and the staff who may see it.
		{"GET /cases/{id}/materials/{n}", signedIn, s.downloadMaterial},
		{"GET /cases/{id}/documents/{doc}", signedIn, s.document},
		{"GET /cases/{id}/result", signedIn, s.result},
		// 我的: the account of whoever is signed in.
		{"GET /me", signedIn, s.me},
		{"GET /me/messages", signedIn, s.messages},
		{"POST /me/password", signedIn, s.meAction(s.changePassword)},
		{"POST /me/signout-all", signedIn, s.meAction(s.signoutEverywhere)},
		{"POST /me/mobile/code", signedIn, s.meAction(s.sendMobileCode)},
		{"POST /me/mobile", signedIn, s.meAction(s.changeMobile)},
		{"POST /me/email", signedIn, s.meAction(s.setEmail)},
		{"POST /me/enterprises", signedIn, s.meAction(s.registerEnterprise)},
		{"POST /me/enterprises/{id}/agents", signedIn, s.meAction(s.addAgent)},
		{"POST /me/acting", signedIn, s.meAction(s.actFor)},
		// The staff workbench and the counter.
		{"GET /workbench", staff, s.workbench},
		{"GET /workbench/queue/{status}", staff, s.queue},
		{"GET /workbench/intake", staff, s.intakeForm},
		{"POST /workbench/intake", staff, s.intake},
		{"GET /workbench/cases/{id}", staff, s.staffCase},
		{"POST /workbench/cases/{id}", staff, s.staffAct},
		{"POST /workbench/cases/{id}/form", staff, s.staffForm},
		{"POST /workbench/cases/{id}/materials/{n}", staff, s.staffUpload},
		{"POST /workbench/cases/{id}/visits", staff, s.staffVisit},
		{"POST /workbench/cases/{id}/reveal", staff, s.staffReveal},
		{"POST /workbench/cases/{id}/complete", staff, s.staffComplete},
		{"GET /workbench/cases/{id}/archive", staff, s.archive},
		// Administration.
		{"GET /admin", adminHome, s.admin},
		{"GET /admin/audit", staffMay(policy.View, policy.Resource{Kind: policy.AuditLog}), s.auditLog},
		{"GET /admin/jobs", staffMay(policy.View, policy.Resource{Kind: policy.Jobs}), s.jobsPage},
		{"GET /admin/staff", staffMay(policy.Edit, anyAccount), s.staffList},
		{"POST /admin/staff", staffMay(policy.Edit, anyAccount), s.staffCreate},
		{"POST /admin/staff/{id}", staffMay(policy.Edit, anyAccount), s.staffUpdate},
		{"GET /admin/departments", staffMay(policy.Edit, anyDepartment), s.departmentsAdmin},
		{"POST /admin/departments/{id}", staffMay(policy.Edit, anyDepartment), s.departmentUpdate},
		{"GET /admin/calendar", staffMay(policy.View, calendarResource), s.calendarAdmin},
		{"POST /admin/calendar", staffMay(policy.Edit, calendarResource), s.calendarSet},
		{"POST /admin/calendar/{day}/delete", staffMay(policy.Edit, calendarResource), s.calendarRemove},
		// Webhooks of API clients (issue 12).
		{"GET /admin/webhooks", staffMay(policy.Edit, webhookResource), s.webhooksAdmin},
		{"POST /admin/webhooks", staffMay(policy.Edit, webhookResource), s.webhookCreate},
		{"GET /admin/webhooks/{id}", staffMay(policy.Edit, webhookResource), s.webhookAdmin},
		{"POST /admin/webhooks/{id}/active", staffMay(policy.Edit, webhookResource), s.webhookActive},
		{"POST /admin/webhooks/{id}/rotate", staffMay(policy.Edit, webhookResource), s.webhookRotate},
		{"POST /admin/webhooks/{id}/deliveries/{delivery}/redeliver", staffMay(policy.Edit, webhookResource), s.webhookRedeliver},
		// Integration (issue 12, integration_admin.go): API clients, keys, the directory and the access log.
		{"GET /admin/integration", staffMay(policy.View, apiKeyResource), s.integrationAdmin},
		{"POST /admin/integration/clients", staffMay(policy.Create, apiKeyResource), s.integrationForm(s.integrationClientCreate)},
		{"POST /admin/integration/clients/{id}/limit", staffMay(policy.Edit, apiKeyResource), s.integrationForm(s.integrationLimit)},
		{"POST /admin/integration/clients/{id}/revoke", staffMay(policy.Edit, apiKeyResource), s.integrationForm(s.integrationClientRevoke)},
		{"POST /admin/integration/clients/{id}/keys", staffMay(policy.Create, apiKeyResource), s.integrationForm(s.integrationIssue)},
		{"POST /admin/integration/keys/{id}/rotate", staffMay(policy.Edit, apiKeyResource), s.integrationForm(s.integrationRotate)},
		{"POST /admin/integration/keys/{id}/revoke", staffMay(policy.Edit, apiKeyResource), s.integrationForm(s.integrationRevoke)},
		{"POST /admin/integration/directory", staffMay(policy.Edit, apiKeyResource), s.integrationForm(s.integrationGrant)},
		{"POST /admin/integration/directory/{id}/delete", staffMay(policy.Edit, apiKeyResource), s.integrationForm(s.integrationUngrant)},
		{"GET /admin/integration/log", staffMay(policy.View, apiKeyResource), s.sharingLog},
		{"GET /admin/integration/log.xlsx", staffMay(policy.Export, apiKeyResource), s.sharingLogExport},
		// The supervisors' lists.
		{"GET /admin/visits", staffMay(policy.View, statistics), s.supervisorList("visits", s.multiVisits)},
		{"GET /admin/visits.xlsx", staffMay(policy.View, statistics), s.supervisionExport("最多跑一次", s.visitsWorkbook)},
		{"GET /admin/late", staffMay(policy.View, statistics), s.supervisorList("late", s.late)},
		{"GET /admin/late.xlsx", staffMay(policy.View, statistics), s.supervisionExport("时限监督", s.lateWorkbook)},
		{"GET /admin/corrections", staffMay(policy.View, statistics), s.supervisorList("corrections", s.corrections)},
		{"GET /admin/corrections.xlsx", staffMay(policy.View, statistics), s.supervisionExport("一次性告知", s.correctionsWorkbook)},
		{"GET /admin/archives", staffMay(policy.View, statistics), s.supervisorList("archives", s.incompleteArchives)},
		{"GET /admin/archives.xlsx", staffMay(policy.View, statistics), s.supervisionExport("电子档案检查", s.archivesWorkbook)},
		// The catalog.
		{"GET /admin/items", catalogManager, s.itemsAdmin},
		{"GET /admin/items/new", catalogManager, s.itemNew},
		{"POST /admin/items", catalogManager, s.itemSave},
		{"GET /admin/items/{id}", catalogManager, s.itemEdit},
		{"POST /admin/items/{id}", catalogManager, s.itemSave},
		{"POST /admin/items/{id}/status", catalogManager, s.itemPublish},
		{"GET /admin/quality", catalogManager, s.qualityPage},
		{"GET /admin/catalog/export", saying(staffMay(policy.Export, wholeCatalog), "导出整个目录须由系统管理员进行。"), s.catalogExport},
		{"POST " + CatalogImportPath, saying(staffMay(policy.Edit, wholeCatalog), "导入整个目录须由系统管理员进行。"), s.catalogImport},
		// 好差评 (internal/rating): rating a finished service, the units'
		// follow-ups of 差评, the rates, the public rectifications, and the
		// counter tablet (its token in the path is its authority).
		{"GET /me/ratings/{id}", person, s.rateForm},
		{"POST /me/ratings/{id}", person, s.rate},
		{"GET /ratings/rectifications", public, s.rectifications},
		{"GET /workbench/ratings", ratingStaff, s.followUps},
		{"GET /workbench/ratings/{id}", ratingStaff, s.followUp},
		{"POST /workbench/ratings/{id}/callback", ratingStaff, s.followUpStep("callback")},
		{"POST /workbench/ratings/{id}/rectify", ratingStaff, s.followUpStep("rectify")},
		{"POST /workbench/ratings/{id}/appeal", ratingStaff, s.followUpStep("appeal")},
		{"POST /workbench/ratings/{id}/decide", ratingStaff, s.followUpStep("decide")},
		{"POST /workbench/ratings/{id}/reveal", ratingStaff, s.followUpReveal},
		{"POST /workbench/tablet", staff, s.pairTablet},
		{"GET /admin/ratings", staffMay(policy.View, statistics), s.rates},
		{"GET /window/{token}", public, s.tablet},
		{"POST /window/{token}", public, s.tabletRate},
		// Complaints and requests (有诉即应): filing and following for
		// people, the queue and a complaint's steps for staff, statistics
		// for supervisors and dispatchers, categories and routing rules for
		// administrators.
		{"GET /complaints", public, s.complaintsHome},
		{"GET /complaints/new", public, s.complaintNew},
		{"POST /complaints", public, s.complaintFiled},
		{"POST /complaints/code", public, s.complaintCode},
		{"POST /complaints/confirm", public, s.complaintConfirm},
		{"POST /complaints/confirm/code", public, s.complaintConfirmCode},
		{"GET /complaints/{id}/files/{file}", signedIn, s.complaintFile},
		{"GET /me/complaints", person, s.myComplaints},
		{"GET /me/complaints/{id}", person, s.myComplaint},
		{"POST /me/complaints/{id}", person, s.myComplaintAct},
		{"GET /workbench/complaints", staff, s.complaintQueue},
		{"GET /workbench/complaints/new", complaintIntake, s.complaintIntakeForm},
		{"POST /workbench/complaints/new", complaintIntake, s.complaintFiled},
		{"GET /workbench/complaints/{id}", staff, s.staffComplaint},
		{"POST /workbench/complaints/{id}", staff, s.staffComplaintAct},
		{"GET /admin/complaints/stats", staffMay(policy.View, complaintStats), s.complaintStatsPage},
		{"GET /admin/complaints/settings", staffMay(policy.Edit, complaintSettings), s.complaintSettingsPage},
		{"POST /admin/complaints/categories", staffMay(policy.Edit, complaintSettings), s.complaintCategorySave},
		{"POST /admin/complaints/routes", staffMay(policy.Edit, complaintSettings), s.complaintRouteSave},
		{"POST /admin/complaints/routes/{id}/delete", staffMay(policy.Edit, complaintSettings), s.complaintRouteRemove},
		// Boards and surveys (表扬台, 曝光台, 问卷): the public pages, the
		// supervisors' choice of entries, the administrators' surveys.
		{"GET /boards/{board}", public, s.boardPage},
		{"GET /boards/{board}/{id}", public, s.boardEntry},
		{"GET /admin/boards", boardEditor, s.boardsAdmin},
		{"POST /admin/boards/preview", boardEditor, s.boardPreview},
		{"POST /admin/boards", boardEditor, s.boardPublish},
		{"POST /admin/boards/{id}/withdraw", boardEditor, s.boardWithdraw},
		{"GET /surveys", public, s.surveyList},
		{"GET /surveys/{id}", public, s.surveyPage},
		{"POST /surveys/{id}", public, s.surveyAnswer},
		{"GET /surveys/{id}/qr.svg", public, s.surveyQR},
		// 一件事一次办 (bundle.go, bundle_admin.go): the published life
		// events with their guides, the one application and its tracking,
		// and the catalog managers' pages that build them.
		{"GET /bundles", public, s.bundleList},
		{"GET /bundles/{id}", public, s.bundleGuide},
		{"GET /bundles/{id}/apply", person, s.bundleApplyForm},
		{"POST /bundles/{id}/apply", person, s.bundleApply},
		{"GET /me/bundles/{id}", person, s.bundleTrack},
		{"GET /admin/bundles", bundleEditor, s.bundlesAdmin},
		{"GET /admin/bundles/new", bundleEditor, s.bundleNew},
		{"POST /admin/bundles", bundleEditor, s.bundleSave},
		{"GET /admin/bundles/{id}", bundleEditor, s.bundleEdit},
		{"POST /admin/bundles/{id}", bundleEditor, s.bundleSave},
		{"POST /admin/bundles/{id}/status", bundleEditor, s.bundlePublish},
		{"GET /admin/bundles/export", bundleEditor, s.bundlesExport},
		{"POST /admin/bundles/import", bundleEditor, s.bundlesImport},
		{"GET /admin/surveys", staffMay(policy.Edit, surveyResource), s.surveysAdmin},
		{"GET /admin/surveys/new", staffMay(policy.Edit, surveyResource), s.surveyNew},
		{"POST /admin/surveys", staffMay(policy.Edit, surveyResource), s.surveySave},
		{"GET /admin/surveys/{id}", staffMay(policy.Edit, surveyResource), s.surveyEdit},
		{"POST /admin/surveys/{id}", staffMay(policy.Edit, surveyResource), s.surveySave},
		{"POST /admin/surveys/{id}/status", staffMay(policy.Edit, surveyResource), s.surveyStatus},
		{"GET /admin/surveys/{id}/results", staffMay(policy.View, surveyResource), s.surveyResults},
		{"GET /admin/surveys/{id}/results.xlsx", staffMay(policy.Export, surveyResource), s.surveyExport},
		// Statistics and dashboards (统计分析, issue 10): the dashboards,
		// the cases behind each figure, their exports, the hall screen,
		// and the public figures.
		{"GET /admin/stats", statsViewer, s.statsDashboardPage},
		{"GET /admin/stats.xlsx", statsViewer, s.statsExport},
		{"GET /admin/stats/cases", statsViewer, s.statsCases},
		{"GET /admin/stats/cases.xlsx", statsViewer, s.statsCasesExport},
		{"GET /admin/stats/screen", statsViewer, s.statsScreen},
		{"GET /stats", public, s.publicStats},
		// 帮办代办 (assisted applications): a street or community worker
		// applies for a person with their consent and follows the cases up;
		// the signed consent form is the case's, for whoever may see it.
		{"GET /assist", assistant, s.assistCases},
		{"GET /assist/new", assistant, s.assistNew},
		{"POST /assist/consent", assistant, s.assistConsent},
		{"POST /assist/items/{id}", assistant, s.assistApply},
		{"GET /assist/cases/{id}", assistant, s.assistCase},
		{"GET /cases/{id}/consent", signedIn, s.consentFile},
		// Module usage and the self-evaluation (绩效自评): administrators'.
		{"GET /admin/usage", staffMay(policy.View, usageResource), s.usagePage},
		{"GET /admin/evaluation", staffMay(policy.View, evaluationResource), s.evaluationView},
		{"POST /admin/evaluation/entries", staffMay(policy.Edit, evaluationResource), s.evaluationEnter},
		{"GET /admin/evaluation/print", staffMay(policy.View, evaluationResource), s.evaluationPrint},
		{"GET /admin/evaluation/report.css", staffMay(policy.View, evaluationResource), s.evaluationCSS},
		{"GET /admin/evaluation/{period}/{code}/evidence", staffMay(policy.View, evaluationResource), s.evaluationEvidence},
		// The hall (预约, 取号叫号; hall.go, hall_admin.go): booking and
		// 我的预约 for people, each hall's kiosk and screen (public, no
		// personal data), the window clerks' calling page, the
		// administrators' window groups and the waiting figures.
		{"GET /hall", public, s.hallList},
		{"GET /hall/{hall}", public, s.hallPage},
		{"POST /hall/{hall}/book", person, s.hallBook},
		{"GET /hall/{hall}/kiosk", public, s.hallKiosk},
		{"POST /hall/{hall}/kiosk/booking", public, s.kioskCheckIn},
		{"POST /hall/{hall}/kiosk/number", public, s.kioskNumber},
		{"GET /hall/{hall}/screen", public, s.hallScreen},
		{"GET /me/bookings", person, s.myBookings},
		{"GET /me/bookings/{id}", person, s.myBooking},
		{"GET /me/bookings/{id}/qr.svg", person, s.bookingQR},
		{"POST /me/bookings/{id}/cancel", person, s.cancelBooking},
		{"GET /workbench/hall", hallClerk, s.hallDesk},
		{"POST /workbench/hall/groups/{group}/call", hallClerk, s.hallCall},
		{"POST /workbench/hall/groups/{group}/take", hallClerk, s.hallTake},
		{"POST /workbench/hall/tickets/{id}", hallClerk, s.hallTicketStep},
		{"GET /admin/hall", staffMay(policy.Edit, hallSettings), s.hallAdmin},
		{"POST /admin/hall/groups", staffMay(policy.Edit, hallSettings), s.hallGroupSave},
		{"GET /admin/hall/waits", hallWaitsViewer, s.hallWaits},
		// 电子证照 (e-licences, issue 12): the 证照夹, public verification
		// (from the QR code's URL), the issuing department's list with
		// revocation (the service checks the department and role), and
		// the catalog managers' templates.
		{"GET /me/licences", person, s.myLicences},
		{"GET /me/licences/{id}", person, s.myLicence},
		{"GET /me/licences/{id}/file", person, s.licenceFile},
		{"GET /v/{token}", public, s.verifyLicence},
		{"GET /licences/verify", public, s.verifyLicence},
		{"GET /workbench/licences", staff, s.issuedLicences},
		{"POST /workbench/licences/{id}/revoke", staff, s.revokeLicence},
		{"GET /admin/licences", catalogManager, s.licenceAdmin},
		{"POST /admin/licences", catalogManager, s.saveLicenceTemplate},
		// Anything else is not found.
		{"/", public, func(w http.ResponseWriter, r *http.Request) error {
			return apperr.New(apperr.NotFound, "您访问的页面不存在。")
		}},
	}
}

// Register adds the pages to mux, each behind its route's guard.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /static/{file}", s.assets) // public, and without a session: no database per file
	for _, rt := range s.table {
		mux.HandleFunc(rt.pattern, s.handle(s.guarded(rt)))
	}
}

// guarded runs rt's guard, then reads a posted form (an upload's
// multipart body is left to its handler), then the handler.
func (s *Server) guarded(rt route) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if rt.guard.allow != nil && requireSignIn(w, r, rt.guard.staff) {
			return nil
		}
		if err := rt.guard.allows(subject(r)); err != nil {
			return err
		}
		if r.Method == http.MethodPost {
			if err := parseForm(r); err != nil {
				return err
			}
		}
		return rt.serve(w, r)
	}
}

// guardOf is the guard of the route with pattern; a pattern not in the
// table is a programming error.
func (s *Server) guardOf(pattern string) guard {
	g, ok := s.guards[pattern]
	if !ok {
		panic("web: no route " + pattern)
	}
	return g
}

// opens reports whether who may open the route with pattern, for the
// links a page shows: nobody is shown a link that leads to a refusal.
func (s *Server) opens(who policy.Subject, pattern string) (bool, error) {
	g, ok := s.guards[pattern]
	if !ok {
		return false, fmt.Errorf("web: no route %q", pattern)
	}
	return g.allows(who) == nil, nil
}
