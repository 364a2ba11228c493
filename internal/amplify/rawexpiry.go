package amplify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxAnswerBytes bounds how much of a successful answer is read; token answers are tiny.
const maxAnswerBytes = 1 << 20

// rawExpiresInKey keys the result metadata entry that holds expiresIn as the server sent it.
type rawExpiresInKey struct{}

// keepRawExpiresIn reads expiresIn from a successful answer before the SDK's deserializer
// does: the SDK stores it as an int32, which silently wraps larger values (4294970896
// becomes 3600). It sits innermost in the deserialize step, so it sees the raw answer first
// and hands the SDK the same bytes.
var keepRawExpiresIn = middleware.DeserializeMiddlewareFunc("KeepRawExpiresIn", func(
	ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler,
) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, metadata, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, metadata, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 || resp.Body == nil {
		return out, metadata, nil
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if readErr != nil {
		return out, metadata, readErr
	}
	var answer struct {
		ExpiresIn json.RawMessage `json:"expiresIn"`
	}
	// An unreadable answer is left to the SDK's deserializer to report.
	if json.Unmarshal(body, &answer) == nil && len(answer.ExpiresIn) > 0 && string(answer.ExpiresIn) != "null" {
		metadata.Set(rawExpiresInKey{}, string(answer.ExpiresIn))
	}
	return out, metadata, nil
})

// addKeepRawExpiresIn places keepRawExpiresIn after the operation's deserializer.
func addKeepRawExpiresIn(stack *middleware.Stack) error {
	return stack.Deserialize.Add(keepRawExpiresIn, middleware.After)
}

// rawExpiresIn is the expiresIn the server sent, "" when none.
func rawExpiresIn(metadata middleware.Metadata) string {
	raw, _ := metadata.Get(rawExpiresInKey{}).(string)
	return raw
}
