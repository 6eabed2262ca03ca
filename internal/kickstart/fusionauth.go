package kickstart

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
)

// AdminApplicationID is the id of FusionAuth's own application, named
// FusionAuth: the one of its admin UI, with the same id in every
// FusionAuth. Kickstarts written for FusionAuth register their admin
// users to it (#{FUSIONAUTH_APPLICATION_ID}), so a kickstart creates it
// in the default tenant before its first request. Latch has no admin UI:
// the application is an ordinary one, whose roles a user's JWT carries
// when it logs in to it, and grants nothing in Latch itself.
const AdminApplicationID = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"

// adminRoles are the roles of FusionAuth's application, with the ids they
// have in every FusionAuth, so that a kickstart may give its admin user
// any of them. admin is a super role there: it can do everything.
var adminRoles = []api.ApplicationRole{
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e2", Name: "admin", IsSuperRole: true},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823712", Name: "acl_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823711", Name: "acl_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e3", Name: "api_key_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e4", Name: "application_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e5", Name: "application_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e6", Name: "audit_log_viewer"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823700", Name: "connector_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823701", Name: "connector_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236fc", Name: "consent_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236fd", Name: "consent_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e7", Name: "email_template_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823706", Name: "entity_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236fa", Name: "event_log_viewer"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823702", Name: "form_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823703", Name: "form_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f6", Name: "group_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f5", Name: "group_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236fb", Name: "key_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f9", Name: "lambda_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823709", Name: "message_template_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823710", Name: "message_template_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823707", Name: "messenger_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823708", Name: "messenger_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236ff", Name: "reactor_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e8", Name: "report_viewer"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236e9", Name: "system_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f8", Name: "tenant_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f7", Name: "tenant_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236fe", Name: "theme_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f0", Name: "user_action_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f1", Name: "user_action_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f2", Name: "user_deleter"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f3", Name: "user_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823704", Name: "user_support_manager"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823705", Name: "user_support_viewer"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb823713", Name: "webhook_event_log_viewer"},
	{ID: "631ecd9d-8d40-4c13-8277-80cedb8236f4", Name: "webhook_manager"},
}

// createAdminApplication creates FusionAuth's application in the tenant.
func createAdminApplication(ctx context.Context, tx *identity.Service, tenantID string) error {
	app := identity.DefaultApplication()
	app.Name = "FusionAuth"
	app.Roles = slices.Clone(adminRoles)
	if _, err := tx.CreateApplication(ctx, tenantID, AdminApplicationID, app); err != nil {
		return fmt.Errorf("kickstart: create FusionAuth's application: %w", err)
	}
	return nil
}

// FusionAuth's own values, which a kickstart uses as it uses variables:
// FUSIONAUTH_APPLICATION_ID (AdminApplicationID), FUSIONAUTH_TENANT_ID
// (the default tenant's id), FUSIONAUTH_DEFAULT_SIGNING_KEY_ID (the
// default tenant's signing key), and the ids of objects FusionAuth makes
// for itself that Latch does not have: the Tenant Manager application
// (TENANT_MANAGER_ID, FUSIONAUTH_TENANT_MANAGER_APPLICATION_ID, or the
// variable tenantManagerApplicationId), the default forms
// (FUSIONAUTH_FORM[adminUser]_ID, FUSIONAUTH_FORM[adminRegistration]_ID)
// and the reconcile lambdas (FUSIONAUTH_LAMBDA[GoogleReconcile]_ID ...).
// Those are ids of nothing, one per name for the file: the requests that
// use them call APIs Latch does not implement (which the operator may
// skip), and a request to one it does implement fails naming the id.
const (
	builtinApplicationID    = "FUSIONAUTH_APPLICATION_ID"
	builtinTenantID         = "FUSIONAUTH_TENANT_ID"
	builtinSigningKeyID     = "FUSIONAUTH_DEFAULT_SIGNING_KEY_ID"
	builtinTenantManager    = "TENANT_MANAGER_ID"
	builtinTenantManagerApp = "FUSIONAUTH_TENANT_MANAGER_APPLICATION_ID"
)

// builtinAbsent matches the names of FusionAuth's own objects Latch does
// not have but the Tenant Manager application.
var builtinAbsent = regexp.MustCompile(`^FUSIONAUTH_(?:FORM\[(?:adminUser|adminRegistration)\]|LAMBDA\[[A-Za-z0-9]+Reconcile\])_ID$`)

// isBuiltin reports whether name is one of FusionAuth's own values.
func isBuiltin(name string) bool {
	switch name {
	case builtinApplicationID, builtinTenantID, builtinSigningKeyID, builtinTenantManager, builtinTenantManagerApp:
		return true
	}
	return builtinAbsent.MatchString(name)
}

// builtins returns FusionAuth's own values for one file, given the ids it
// chose for the default tenant, its signing key and the Tenant Manager
// application (blank: one is made).
func builtins(tenantID, keyID, tenantManagerID string) map[string]string {
	if tenantManagerID == "" {
		tenantManagerID = uuid.NewString()
	}
	return map[string]string{
		builtinApplicationID:    AdminApplicationID,
		builtinTenantID:         tenantID,
		builtinSigningKeyID:     keyID,
		builtinTenantManager:    tenantManagerID,
		builtinTenantManagerApp: tenantManagerID,
	}
}

// builtinValue is the value of FusionAuth's own value name in vals,
// making the id of an absent object the first time it is asked for.
func builtinValue(vals map[string]string, name string) (string, bool) {
	if v, ok := vals[name]; ok {
		return v, true
	}
	if vals != nil && builtinAbsent.MatchString(name) {
		vals[name] = uuid.NewString()
		return vals[name], true
	}
	return "", false
}

// fusionAuthAPIs names FusionAuth's APIs that Latch does not implement,
// by their path without ids, for the message that says so.
var fusionAuthAPIs = map[string]string{
	"/api/connector":            "Connectors API",
	"/api/consent":              "Consents API",
	"/api/email/template":       "Emails API",
	"/api/entity":               "Entities API",
	"/api/entity/type":          "Entity Types API",
	"/api/form":                 "Forms API",
	"/api/form/field":           "Form Fields API",
	"/api/group":                "Groups API",
	"/api/identity-provider":    "Identity Providers API",
	"/api/integration":          "Integrations API",
	"/api/ip-acl":               "IP Access Control Lists API",
	"/api/lambda":               "Lambdas API",
	"/api/message/template":     "Message Templates API",
	"/api/messenger":            "Messengers API",
	"/api/reactor":              "Reactor API",
	"/api/system-configuration": "System Configuration API",
	"/api/theme":                "Themes API",
	"/api/user-action":          "User Actions API",
	"/api/user-action-reason":   "User Action Reasons API",
	"/api/user/action":          "Actioning Users API",
	"/api/user/family":          "Families API",
}

// apiName names the API of path for an operator: FusionAuth's name and
// the path without ids, or the path without ids alone.
func apiName(path string) string {
	var segs []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if s != "" && !identity.ValidID(s) {
			segs = append(segs, s)
		}
	}
	for n := len(segs); n > 0; n-- {
		p := "/" + strings.Join(segs[:n], "/")
		if name, ok := fusionAuthAPIs[p]; ok {
			return fmt.Sprintf("FusionAuth's %s (%s)", name, p)
		}
	}
	return "the API " + "/" + strings.Join(segs, "/")
}
