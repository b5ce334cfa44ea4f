package tatum

import (
	"context"
	"time"
)

// Test hooks: replace the backoff sleep and the jitter so retry tests
// neither sleep nor depend on randomness.
func SetSleep(c *Client, f func(context.Context, time.Duration) error) { c.sleep = f }
func SetJitter(c *Client, f func() float64)                            { c.jitter = f }

var CompareVersions = compareVersions
var BuildFrom = buildFrom
