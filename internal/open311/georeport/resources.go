package georeport

import "encoding/xml"

// The resources, field for field as the specification lists them, in its
// order. Identifiers are strings, times W3 strings with their zone.

// Discovery is discovery.xml / discovery.json: where the endpoint is and
// how to get a key (http://wiki.open311.org/Service_Discovery).
type Discovery struct {
	XMLName    xml.Name   `json:"-" xml:"discovery"`
	Changeset  string     `json:"changeset" xml:"changeset"`
	Contact    string     `json:"contact" xml:"contact"`
	KeyService string     `json:"key_service" xml:"key_service"`
	Endpoints  []Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

// Endpoint is one endpoint of a discovery document.
type Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"` // production or test
	Formats       []string `json:"formats" xml:"formats>format"`
}

// Specification is how discovery names GeoReport v2.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// Service is one entry of services.xml: a type of request.
type Service struct {
	Code        string `json:"service_code" xml:"service_code"`
	Name        string `json:"service_name" xml:"service_name"`
	Description Text   `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"` // realtime, batch or blackbox
	Keywords    Text   `json:"keywords" xml:"keywords"`
	Group       Text   `json:"group" xml:"group"`
}

// Services is services.xml.
func Services(s []Service) List[Service] { return List[Service]{"services", "service", s} }

// ServiceDefinition is services/{service_code}.xml: the extra fields a
// service asks for (Service.Metadata says whether there are any).
type ServiceDefinition struct {
	XMLName    xml.Name    `json:"-" xml:"service_definition"`
	Code       string      `json:"service_code" xml:"service_code"`
	Attributes []Attribute `json:"attributes" xml:"attributes>attribute"`
}

// Attribute is a field of a service definition.
type Attribute struct {
	Variable            bool    `json:"variable" xml:"variable"`
	Code                string  `json:"code" xml:"code"`
	Datatype            string  `json:"datatype" xml:"datatype"`
	Required            bool    `json:"required" xml:"required"`
	DatatypeDescription Text    `json:"datatype_description" xml:"datatype_description"`
	Order               int     `json:"order" xml:"order"`
	Description         string  `json:"description" xml:"description"`
	Values              []Value `json:"values,omitempty" xml:"values>value,omitempty"`
}

// Value is an option of a list attribute.
type Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

// Request is one entry of requests.xml: a service request as anyone may
// read it — it has no field for the person who made it.
type Request struct {
	ID                string     `json:"service_request_id" xml:"service_request_id"`
	Status            string     `json:"status" xml:"status"` // open or closed
	StatusNotes       Text       `json:"status_notes" xml:"status_notes"`
	ServiceName       string     `json:"service_name" xml:"service_name"`
	ServiceCode       string     `json:"service_code" xml:"service_code"`
	Description       Text       `json:"description" xml:"description"`
	AgencyResponsible Text       `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     Text       `json:"service_notice" xml:"service_notice"`
	Requested         Text       `json:"requested_datetime" xml:"requested_datetime"`
	Updated           Text       `json:"updated_datetime" xml:"updated_datetime"`
	Expected          Text       `json:"expected_datetime" xml:"expected_datetime"`
	Address           Text       `json:"address" xml:"address"`
	AddressID         Text       `json:"address_id" xml:"address_id"`
	Zipcode           Text       `json:"zipcode" xml:"zipcode"`
	Lat               Coordinate `json:"lat" xml:"lat"`
	Long              Coordinate `json:"long" xml:"long"`
	MediaURL          Text       `json:"media_url" xml:"media_url"`
}

// Open and Closed are the two statuses of the specification.
const (
	Open   = "open"
	Closed = "closed"
)

// Requests is requests.xml and requests/{id}.xml.
func Requests(r []Request) List[Request] { return List[Request]{"service_requests", "request", r} }

// Created is the answer to POST requests.xml for a realtime service: the
// new request's id, what will happen, and the client's account_id, which
// this server does not return (null).
type Created struct {
	ID            string `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice Text   `json:"service_notice" xml:"service_notice"`
	AccountID     Text   `json:"account_id" xml:"account_id"`
}

// CreatedList is the body of POST requests.xml.
func CreatedList(c ...Created) List[Created] { return List[Created]{"service_requests", "request", c} }

// Token is the answer to tokens/{token}.xml.
type Token struct {
	ID    string `json:"service_request_id" xml:"service_request_id"`
	Token string `json:"token" xml:"token"`
}

// Tokens is the body of tokens/{token}.xml.
func Tokens(t ...Token) List[Token] { return List[Token]{"service_requests", "request", t} }

// Update is one entry of mySociety's servicerequestupdates.xml: a change
// to a request — its id, the request's, the status after it, when, and
// what was said.
type Update struct {
	ID          string `json:"update_id" xml:"update_id"`
	RequestID   string `json:"service_request_id" xml:"service_request_id"`
	Status      string `json:"status" xml:"status"`
	Updated     Text   `json:"updated_datetime" xml:"updated_datetime"`
	Description string `json:"description" xml:"description"`
	MediaURL    string `json:"media_url" xml:"media_url"`
}

// Updates is servicerequestupdates.xml.
func Updates(u []Update) List[Update] {
	return List[Update]{"service_request_updates", "request_update", u}
}
