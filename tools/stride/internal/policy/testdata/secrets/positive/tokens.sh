#!/bin/sh
# Tokens in a script.
curl -H "Authorization: token gh@@p_Zk4Rt9Wq2Lm7Xv3Np8Bs6Hd1Fg5Jc0Ty2Ua9" https://api.github.com/user # WANT:github-token
GH=gh@@o_Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv3Wx5   # WANT:github-token
FINE=github_@@pat_11ABCDEFG0123456789abc_Zk4Rt9Wq2Lm7Xv3Np8Bs6Hd1Fg5Jc0Ty2Ua9Zk4Rt9Wq2Lm7Xv3Np8Bs6Hd # WANT:github-token
SLACK=xo@@xb-1234567890-0987654321-Zk4Rt9Wq2Lm7Xv3Np8Bs6Hd1 # WANT:slack-token
HOOK=https://hooks.slack.com/serv@@ices/T01ABCDEF/B02GHIJKL/Zk4Rt9Wq2Lm7Xv3Np8Bs6Hd1 # WANT:slack-webhook
export DB_PASS@@WORD=Xk9mQ2vL7pR4zT8w # WANT:password-env
