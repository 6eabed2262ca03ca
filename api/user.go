package api

// User is FusionAuth's User object. Requests and responses share it; the
// server never returns Password, Salt or Factor, and returns
// EncryptionScheme only when a user is retrieved with an API key.
type User struct {
	ID                        string `json:"id,omitempty"`
	TenantID                  string `json:"tenantId,omitempty"`
	Email                     string `json:"email,omitempty"`
	Username                  string `json:"username,omitempty"`
	Password                  string `json:"password,omitempty"`
	EncryptionScheme          string `json:"encryptionScheme,omitempty"`
	Factor                    int    `json:"factor,omitempty"`
	Salt                      string `json:"salt,omitempty"`
	Active                    bool   `json:"active"`
	Verified                  bool   `json:"verified"`
	VerifiedInstant           int64  `json:"verifiedInstant,omitempty"`
	Expiry                    int64  `json:"expiry,omitempty"`
	PasswordChangeRequired    bool   `json:"passwordChangeRequired"`
	PasswordChangeReason      string `json:"passwordChangeReason,omitempty"`
	PasswordLastUpdateInstant int64  `json:"passwordLastUpdateInstant,omitempty"`
	InsertInstant             int64  `json:"insertInstant,omitempty"`
	LastUpdateInstant         int64  `json:"lastUpdateInstant,omitempty"`
	LastLoginInstant          int64  `json:"lastLoginInstant,omitempty"`
	UserProfile
	Registrations []UserRegistration `json:"registrations,omitempty"`
	// TwoFactor lists the user's two-factor methods (never a secret). It
	// is ignored in requests: methods are enabled through the two-factor API.
	TwoFactor *UserTwoFactor `json:"twoFactor,omitempty"`
}

// UserProfile holds the descriptive fields of a User: nothing in it
// affects authentication. It is embedded in User, so its fields appear
// flat in the JSON, as FusionAuth sends them.
type UserProfile struct {
	FirstName          string         `json:"firstName,omitempty"`
	MiddleName         string         `json:"middleName,omitempty"`
	LastName           string         `json:"lastName,omitempty"`
	FullName           string         `json:"fullName,omitempty"`
	BirthDate          string         `json:"birthDate,omitempty"`
	ImageURL           string         `json:"imageUrl,omitempty"`
	MobilePhone        string         `json:"mobilePhone,omitempty"`
	PhoneNumber        string         `json:"phoneNumber,omitempty"`
	ParentEmail        string         `json:"parentEmail,omitempty"`
	PreferredLanguages []string       `json:"preferredLanguages,omitempty"`
	Timezone           string         `json:"timezone,omitempty"`
	UsernameStatus     string         `json:"usernameStatus,omitempty"`
	Data               map[string]any `json:"data,omitempty"`
}

// UserRegistration links a user to an application, with the user's roles in it.
type UserRegistration struct {
	ID                 string         `json:"id,omitempty"`
	ApplicationID      string         `json:"applicationId,omitempty"`
	Roles              []string       `json:"roles,omitempty"`
	Data               map[string]any `json:"data,omitempty"`
	Username           string         `json:"username,omitempty"`
	UsernameStatus     string         `json:"usernameStatus,omitempty"`
	PreferredLanguages []string       `json:"preferredLanguages,omitempty"`
	Timezone           string         `json:"timezone,omitempty"`
	Verified           bool           `json:"verified"`
	VerifiedInstant    int64          `json:"verifiedInstant,omitempty"`
	InsertInstant      int64          `json:"insertInstant,omitempty"`
	LastUpdateInstant  int64          `json:"lastUpdateInstant,omitempty"`
	LastLoginInstant   int64          `json:"lastLoginInstant,omitempty"`
}

// UserRequest is the body of POST, PUT and PATCH /api/user.
type UserRequest struct {
	User                 User       `json:"user"`
	ApplicationID        string     `json:"applicationId,omitempty"`
	SendSetPasswordEmail bool       `json:"sendSetPasswordEmail,omitempty"`
	SkipVerification     bool       `json:"skipVerification,omitempty"`
	DisableDomainBlock   bool       `json:"disableDomainBlock,omitempty"`
	EventInfo            *EventInfo `json:"eventInfo,omitempty"`
}

// UserResponse answers the user APIs.
type UserResponse struct {
	User                   *User  `json:"user,omitempty"`
	Token                  string `json:"token,omitempty"`
	TokenExpirationInstant int64  `json:"tokenExpirationInstant,omitempty"`
}

// UserDeleteRequest is the optional JSON body of DELETE /api/user/{id}.
type UserDeleteRequest struct {
	HardDelete bool       `json:"hardDelete"`
	EventInfo  *EventInfo `json:"eventInfo,omitempty"`
}

// RegistrationRequest is the body of POST /api/user/registration: a
// registration for an existing user, or a user and its registration at once.
type RegistrationRequest struct {
	Registration                 UserRegistration `json:"registration"`
	User                         *User            `json:"user,omitempty"`
	GenerateAuthenticationToken  bool             `json:"generateAuthenticationToken,omitempty"`
	SkipRegistrationVerification bool             `json:"skipRegistrationVerification,omitempty"`
	SkipVerification             bool             `json:"skipVerification,omitempty"`
	SendSetPasswordEmail         bool             `json:"sendSetPasswordEmail,omitempty"`
	DisableDomainBlock           bool             `json:"disableDomainBlock,omitempty"`
	EventInfo                    *EventInfo       `json:"eventInfo,omitempty"`
}

// RegistrationResponse answers the registration APIs.
type RegistrationResponse struct {
	Registration           *UserRegistration `json:"registration,omitempty"`
	User                   *User             `json:"user,omitempty"`
	Token                  string            `json:"token,omitempty"`
	TokenExpirationInstant int64             `json:"tokenExpirationInstant,omitempty"`
	RefreshToken           string            `json:"refreshToken,omitempty"`
	RefreshTokenID         string            `json:"refreshTokenId,omitempty"`
}

// ImportRequest is the body of POST /api/user/import. Each user may carry a
// hash from another system in Password with EncryptionScheme, Factor and Salt.
type ImportRequest struct {
	Users                 []User `json:"users"`
	ValidateDbConstraints bool   `json:"validateDbConstraints,omitempty"`
	EncryptionScheme      string `json:"encryptionScheme,omitempty"`
	Factor                int    `json:"factor,omitempty"`
}
