// The X-Ray daemon built from its upstream module. Its releases are tagged
// v3.x.y while the module path has no /v3 suffix, so a release is reachable
// only as the pseudo-version of its release commit: this one is v3.6.6's
// (258270e341f34aebdc8c531b9082e851c6cdb128, "Release commit v3.6.6").
module github.com/cruddur/sidecars/xray-daemon

go 1.25.0

tool github.com/aws/aws-xray-daemon/cmd/tracing

require github.com/aws/aws-xray-daemon v0.0.0-20260715163521-258270e341f3
