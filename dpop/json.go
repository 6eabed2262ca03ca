package dpop

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/latchid/latch/internal/jws"
)

// maxNumericDate bounds iat: year 5138, far enough for any clock and small
// enough that time arithmetic on it cannot overflow.
const maxNumericDate = 1e11

// numericDate returns member name of m as whole seconds since the epoch
// (RFC 7519 §2: a JSON number, possibly fractional; the fraction is
// dropped).
func numericDate(m jws.Object, name string) (int64, bool, error) {
	v, ok := m[name]
	if !ok {
		return 0, false, nil
	}
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, true, fmt.Errorf("%q is not a number", name)
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		return 0, true, fmt.Errorf("%q is not a number", name)
	}
	if math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return 0, true, fmt.Errorf("%q is out of range", name)
	}
	return int64(f), true, nil
}
