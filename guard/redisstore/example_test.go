package redisstore_test

import (
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/guard/redisstore"
)

// A backend running several instances behind a load balancer shares
// revocations and DPoP proofs through Redis: the revocation webhook that
// reaches one instance is honoured by all, and a DPoP proof is accepted
// by one instance only.
func Example() {
	// Fail fast: a Redis that is down costs a request a second and a 503.
	rdb := redis.NewClient(redisstore.TuneOptions(&redis.Options{Addr: "redis.internal:6379"}))
	defer rdb.Close()
	store := redisstore.New(rdb, redisstore.Config{Prefix: "shop:latch:"})

	g, err := guard.New(guard.Config{
		Issuer:      "https://latch.example.com",
		Audience:    "3c219e58-ed0e-4b18-ad48-f4f92793ae32", // the Latch application id
		LatchURL:    "https://latch.example.com",
		DPoP:        guard.DPoPOptions{PublicURL: "https://shop.example.com", Replay: store}, // behind a load balancer
		Revocations: guard.RevocationOptions{Store: store},
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	// Latch's webhook (jwt.refresh-token.revoke), on any instance.
	mux.Handle("POST /latch/events", g.Events())
	mux.Handle("/api/", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := guard.ClaimsFrom(r.Context())
		w.Write([]byte("hello " + claims.Subject))
	})))
	log.Fatal(http.ListenAndServe(":8080", mux))
}
