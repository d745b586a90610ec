"""Bilingual (English, Chinese) descriptions of the 4xx codes in `sipfsm.values.catalogue`.

Kept apart from the catalogue table so that the table reads top to bottom. Each entry is
``code: (english, chinese)``, written from the defining RFC section named in the catalogue
(RFC 3261 §21.4 and the extensions registered with IANA); neither text quotes the RFC.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

DESCRIPTIONS: Final[Mapping[int, tuple[str, str]]] = MappingProxyType(
    {
        # --- RFC 3261 §21.4 -------------------------------------------------------------
        400: (
            "The request is malformed and could not be understood. The reason phrase should name "
            "the specific syntax problem, such as a missing mandatory header field.",
            "请求存在语法错误，服务器无法理解。原因短语宜具体指出出错之处，"
            "例如缺少哪个必需的头字段。",
        ),
        401: (
            "The request must carry user credentials. User agent servers and registrars send it "
            "(proxies use 407); it carries a WWW-Authenticate challenge, and the client may "
            "resend with an Authorization header field.",
            "该请求需要用户身份认证。由 UAS 或注册服务器发出（代理服务器改用 407），"
            "响应携带 WWW-Authenticate 质询，客户端可附上 Authorization 凭据后重发。",
        ),
        402: (
            "Reserved for future use; no behaviour is defined, so a client handles it like an "
            "unrecognised 4xx, that is as 400.",
            "保留码，目前没有定义任何用途；客户端收到时按未识别的 4xx 处理，即视同 400。",
        ),
        403: (
            "The server understood the request but refuses to carry it out. Supplying credentials "
            "will not change the outcome, so the request should not be repeated.",
            "服务器理解该请求，但拒绝执行。提供认证信息也无济于事，客户端不应再次发送同一请求。",
        ),
        404: (
            "The server knows for certain that the user named in the Request-URI does not exist "
            "in that domain. It is also sent when the Request-URI's domain is not one the "
            "recipient is responsible for.",
            "服务器确切知道 Request-URI 所指的用户在该域中不存在。"
            "若 Request-URI 的域名不属于接收方所管辖的任何域，也返回此响应。",
        ),
        405: (
            "The method is recognised but not permitted for the address in the Request-URI. The "
            "response must list the methods that address accepts in an Allow header field.",
            "服务器认识该方法，但 Request-URI 所标识的地址不允许使用它。响应必须带 Allow 头字段，"
            "列出该地址支持的方法。",
        ),
        406: (
            "The addressed resource can only produce response bodies whose content "
            "characteristics fall outside what the request's Accept header field allows.",
            "目标资源只能生成请求中 Accept 头字段所不接受的内容，因而无法给出可接受的响应消息体。",
        ),
        407: (
            "Like 401, but the credentials are demanded by a proxy: the response carries a "
            "Proxy-Authenticate challenge and the client resends with Proxy-Authorization. "
            "Typically it guards access to a gateway or network rather than to the callee.",
            "与 401 类似，但要求认证的是代理服务器：响应带 Proxy-Authenticate 质询，"
            "客户端需附上 Proxy-Authorization 后重发。常用于保护对网关等通信通道的访问，"
            "而非对被叫本身。",
        ),
        408: (
            "The server could not produce a final answer in time, for example because locating "
            "the user took too long. The client may resend the request unchanged later; RFC 4320 "
            "forbids sending 408 to a non-INVITE request.",
            "服务器未能在合理时间内给出最终响应，例如没能及时查到用户位置。客户端可稍后原样重发；"
            "RFC 4320 禁止对非 INVITE 请求发送 408。",
        ),
        410: (
            "The resource existed here once but is gone and no forwarding address is known; the "
            "condition is taken as permanent. A server that cannot tell whether it is permanent "
            "should send 404 instead.",
            "所请求的资源曾在本服务器上，但现已不可用且没有可转发的新地址，应视为永久性情况。"
            "若无法判断是否永久，服务器应改用 404。",
        ),
        413: (
            "The message body is larger than the server is willing or able to handle, and the "
            "server may close the connection. A Retry-After header field marks the limit as "
            "temporary; otherwise the client should resend without the body or with a smaller one.",
            "请求消息体超出服务器愿意或能够处理的大小，服务器可以关闭连接。若只是暂时受限，"
            "应带 Retry-After 指明何时可再试；否则客户端应去掉消息体或缩小后重发。",
        ),
        414: (
            "The Request-URI is longer than the server is willing to interpret, so the request is "
            "refused.",
            "Request-URI 超出了服务器愿意解析的长度，请求因此被拒绝。",
        ),
        415: (
            "The request body uses a type, encoding or language the server does not support for "
            "this method. The response must state what is acceptable with Accept, Accept-Encoding "
            "or Accept-Language (whichever fits), and the client should retry using only those.",
            "请求消息体的类型、编码或语言不被服务器（就该方法而言）支持。"
            "响应必须视具体问题用 Accept、Accept-Encoding 或 Accept-Language 列出可接受的取值，"
            "客户端应只用这些取值重发。",
        ),
        416: (
            "The server does not know the scheme of the Request-URI. The client should retry with "
            "a SIP URI.",
            "服务器不认识 Request-URI 所用的 URI 方案（scheme）。客户端应改用 SIP URI 重发请求。",
        ),
        420: (
            "An option tag in the request's Require or Proxy-Require header field names an "
            "extension the server does not support. The response must list those tags in an "
            "Unsupported header field, and the client should retry without them.",
            "请求的 Require 或 Proxy-Require 头字段中含有服务器不支持的扩展选项标签。"
            "响应必须在 Unsupported 头字段中列出这些扩展，客户端应去掉它们后重发。",
        ),
        421: (
            "The server needs an extension that the request did not list in Supported; the "
            "response must name it in a Require header field. Servers should avoid this code and "
            "fall back to baseline SIP whenever they can still give useful service.",
            "服务器处理该请求必须用到某个扩展，但请求的 Supported 头字段中没有它；"
            "响应必须用 Require 头字段指明所需扩展。只要还能提供有用的服务，"
            "服务器就应按基础 SIP 处理，尽量不用此码。",
        ),
        423: (
            "The expiration time requested for a refreshed resource, such as a registration "
            "binding, is shorter than the server accepts. The response gives the minimum in a "
            "Min-Expires header field, and the client may retry with an interval at least that "
            "long.",
            "请求为可刷新资源（例如注册绑定）设置的有效期短于服务器允许的下限。"
            "响应用 Min-Expires 头字段给出最小值，客户端可把有效期调到不低于该值后重试。",
        ),
        480: (
            "The callee's end system was reached but the callee cannot be contacted right now "
            "(not logged in, do-not-disturb and so on); proxies and redirect servers also send it "
            "for a known user with no current location. Retry-After may suggest a better time, "
            "and the reason phrase should give the precise cause.",
            "已成功联系到被叫终端，但被叫当前无法接通（如未登录、开启免打扰等）；"
            "代理或重定向服务器认识该用户却暂无其有效位置时也返回此码。"
            "可用 Retry-After 建议再呼时间，原因短语宜说明具体原因。",
        ),
        481: (
            "The request matches no existing dialog or transaction, for example a BYE for an "
            "unknown dialog or an unmatched PRACK (RFC 3262). In a dialog the UAC should treat "
            "the dialog (per RFC 5057, the usage) as gone; a 481 to CANCEL only means the "
            "transaction to cancel was not found.",
            "UAS 收到的请求与任何现存对话或事务都不匹配，例如针对未知对话的 BYE 或无法匹配的 PRACK"
            "（RFC 3262）。对话内收到时 UAC 应认为该对话（按 RFC 5057 为该用法）已不存在；"
            "对 CANCEL 的 481 只表示找不到要取消的事务。",
        ),
        482: (
            "The server found that the request has looped back through it (RFC 3261 §16.3, step "
            "4). A UAS also sends it for a second copy of a request that reached it along another "
            "forked path (a merged request, §8.2.2.2).",
            "服务器发现该请求在转发中绕回了自身，形成环路（RFC 3261 §16.3 第 4 步）。"
            "UAS 也用它拒绝经另一条分叉路径到达的同一请求副本（合并请求，§8.2.2.2）。",
        ),
        483: (
            "The request arrived with Max-Forwards at zero, so it may not be forwarded further. "
            "Mid-dialog it points to a routing fault; a retry helps only if Max-Forwards is "
            "raised.",
            "请求到达时 Max-Forwards 已为 0，不能再被转发。在对话中出现通常说明路由有问题，"
            "只有增大 Max-Forwards 后重发才可能成功。",
        ),
        484: (
            "The Request-URI is incomplete, and the reason phrase should say more. This supports "
            "overlap dialling: the client sends ever longer digit strings, prompting the user for "
            "more, until the 484 responses stop.",
            "Request-URI 不完整，原因短语中宜给出补充信息。此码用于重叠拨号："
            "客户端不知道号码总长度，便逐次发送更长的号码串并提示用户继续输入，直到不再收到 484。",
        ),
        485: (
            "The Request-URI matches more than one user. The response may list unambiguous "
            "candidates in Contact header fields for the user to pick from, but a server must be "
            "configurable to answer 404 instead or to hide the list, for privacy.",
            "Request-URI 有歧义，可对应多个用户。响应可在 Contact 头字段中列出若干明确的候选地址供"
            "用户挑选；出于隐私考虑，服务器必须可配置为改回 404 或不列出候选。",
        ),
        486: (
            "The callee's end system was reached, but the callee will not or cannot take another "
            "call there. Retry-After may suggest when to call back; the user may still be "
            "reachable elsewhere, and 600 is used when no other end system could answer.",
            "已联系到被叫终端，但被叫在这台终端上不愿或无法再接听新的呼叫。"
            "可用 Retry-After 建议回拨时间；用户可能仍可在别处（如语音信箱）接通，"
            "确知别处也无法接听时应改用 600。",
        ),
        487: (
            "The request was ended by a BYE or CANCEL before it completed, typically an INVITE "
            "cancelled before its final response. It is never sent in reply to the CANCEL request "
            "itself, only to the request that was cancelled.",
            "请求在完成前被 BYE 或 CANCEL 终止，典型情形是 INVITE 在最终响应前被取消。"
            "它只回给被取消的原请求，绝不会作为对 CANCEL 请求本身的响应。",
        ),
        488: (
            "Same meaning as 606 but limited to the resource the Request-URI addresses: usually "
            "the offered session description is unacceptable here, though it may work elsewhere. "
            "It should carry a Warning header field and may include a body describing usable "
            "media.",
            "含义与 606 相同，但只针对 Request-URI 所指的这一资源，"
            "通常是所提供的会话描述在此不可接受，换个地方可能可以。"
            "响应宜带 Warning 头字段说明原因，也可附上描述本端媒体能力的消息体。",
        ),
        491: (
            "The UAS has a request of its own pending in the same dialog (glare, e.g. crossing "
            "re-INVITEs or UPDATEs). The UAC waits a random time, 2.1-4 s if it owns the dialog's "
            "Call-ID and 0-2 s otherwise, then retries if it still wants the change.",
            "UAS 在同一对话中自己也有一个未完成的请求（glare 冲突，"
            "如两个 re-INVITE 或 UPDATE 交叉）。UAC 应等待随机时长："
            "Call-ID 由它生成时取 2.1–4 秒，否则取 0–2 秒，若仍需要这次修改再重试。",
        ),
        493: (
            "The request carried an S/MIME-encrypted body the UAS cannot decrypt, because it "
            "lacks or will not use the matching key. The response may carry the UAS's certificate "
            "so the client can encrypt to the right key; without one, encrypted bodies will not "
            "be accepted.",
            "请求带有 S/MIME 加密的消息体，而 UAS 没有或不愿使用对应的解密密钥。"
            "响应可附上 UAS 的证书，供客户端用正确的公钥重新加密；"
            "不带证书则表示对方不接受加密消息体。",
        ),
        # --- IANA registry additions -----------------------------------------------------
        412: (
            "A PUBLISH carried a SIP-If-Match entity-tag that matches no event state held by the "
            "compositor, usually because the publication expired. The publisher must not repeat "
            "it; it discards the tag and sends a fresh initial PUBLISH.",
            "PUBLISH 请求的 SIP-If-Match 实体标签与状态合成器保存的任何事件状态都不匹配，"
            "通常是原发布已过期。发布者不得重发原请求，而应丢弃该标签，"
            "改发不带 SIP-If-Match 的初始 PUBLISH。",
        ),
        417: (
            "The request demanded resource-priority handling (Require: resource-priority) but the "
            "element understood none of the namespaces or values in Resource-Priority. The "
            "response may list acceptable values in Accept-Resource-Priority for a retry.",
            "请求要求资源优先级处理（Require: resource-priority），"
            "但该网元看不懂 Resource-Priority 中的任何命名空间或优先级值。"
            "响应可用 Accept-Resource-Priority 列出可接受的值，供客户端选用后重试。",
        ),
        422: (
            "The Session-Expires interval in the request is below the minimum session timer of a "
            "proxy or the UAS. The response must carry Min-SE, and the client may retry with "
            "Min-SE and a Session-Expires at least that large.",
            "请求中 Session-Expires 给出的会话间隔小于某个代理或 UAS 允许的最小会话定时器。"
            "响应必须带 Min-SE 头字段，客户端可在请求中加入 Min-SE 并把 Session-Expires 调到不小于"
            "该值后重试。",
        ),
        424: (
            "The location conveyed in the request was malformed, unusable for the recipient's "
            "purpose or could not be dereferenced; an intermediary may supply a better location "
            "in the body. It must include Geolocation-Error and does not end an existing dialog.",
            "请求携带的位置信息格式错误、不满足接收方用途或无法解引用；"
            "中间节点也可在响应体中给出更准确的位置。响应必须带 Geolocation-Error 头字段，"
            "且不会终止已有对话。",
        ),
        425: (
            "A non-interactive emergency call carried an alert (CAP) message so malformed that no "
            "sensible emergency response can be chosen. It must include AlertMsg-Error, is not "
            "sent when no alert was present, and does not end an existing dialog.",
            "非交互式紧急呼叫携带的告警消息（CAP）严重畸形，无法据此确定合理的应急处置。"
            "响应必须带 AlertMsg-Error 头字段；请求中没有告警内容时不得使用此码，"
            "且它不会终止已有对话。",
        ),
        428: (
            "The verification service's policy requires an Identity header field, but the request "
            "had none it could use (absent, or with an unsupported ppt). The authentication "
            "service may retry with a suitable Identity header field.",
            "验证服务的本地策略要求请求带 Identity 头字段，"
            "但请求中没有可用的（缺失或 ppt 参数不受支持）。"
            "认证服务可补上合适的 Identity 头字段后重试。",
        ),
        429: (
            "The refer target (or the referee) insists on a valid Referred-By token and the "
            "request had none or a bad one. The referee relays this to the referrer in a NOTIFY, "
            "and the referrer may send a new REFER carrying a signed token.",
            "转介目标（或被转介方）要求提供有效的 Referred-By 令牌，而请求中没有或令牌无效。"
            "被转介方通过 NOTIFY 把结果转告转介方，转介方可发送带签名令牌的新 REFER。",
        ),
        430: (
            "An edge proxy tells the authoritative proxy that the outbound flow to a given UA "
            "instance has failed; other flows to the same instance may still work and should be "
            "tried. Endpoints should never see it and treat it as 400 if they do.",
            "边缘代理告知权威代理：通往某个 UA 实例的特定 outbound 流已失效；"
            "到同一实例的其他流仍可能可用，应改试。终端本不应收到此码，若收到则按 400 处理。",
        ),
        433: (
            "The server refuses the request because the requester deliberately withheld its "
            "identity (anonymous From, Privacy: id or user, and so on). The UAC must not retry "
            "without anonymity unless the user agrees to that.",
            "请求者刻意隐藏了身份（如匿名 From、Privacy: id/user 等），服务器因此拒绝该请求。"
            "除非用户确认同意，UAC 不得自动改为非匿名方式重发。",
        ),
        436: (
            "The verification service could not obtain the credentials needed to check any "
            "Identity header field, because the info URIs could not be dereferenced. Resending "
            "with an info parameter that points at a reachable credential can repair it.",
            "验证服务无法获取校验 Identity 头字段签名所需的凭证，"
            "因为 info 参数中的 URI 都无法解引用。让 info 参数指向可访问的凭证后重发即可修复。",
        ),
        437: (
            "The verification service can obtain the credential named by the Identity header "
            "field but does not support it, for example because it distrusts the issuing CA or "
            "the signing algorithm. RFC 4474 called it Unsupported Certificate.",
            "验证服务能取得 Identity 头字段所指的凭证，但不支持它，"
            "例如不信任签发的 CA 或不支持其签名算法。此码在 RFC 4474 中原名 Unsupported Certificat"
            "e。",
        ),
        438: (
            "No Identity header field in the request carried a valid, supported PASSporT, and "
            "local policy rejects requests with broken signatures. If the compact form was sent, "
            "the authentication service should retry once with the full form.",
            "请求中没有任何一个 Identity 头字段带有有效且受支持的 PASSporT，"
            "而本地策略规定签名无效即拒绝。若原先用的是紧凑形式，认证服务应改用完整形式重试一次。",
        ),
        439: (
            "A registrar that supports SIP Outbound reports that the first-hop proxy the UA "
            "registered through does not. It only answers a REGISTER with reg-id and the outbound "
            "option tag; the UA may register without outbound or via another proxy.",
            "支持 SIP Outbound 的注册服务器告知：UA 注册时经过的第一跳代理不支持 outbound。"
            "只有带 reg-id 且声明支持 outbound 的 REGISTER 才会收到此码；"
            "UA 可不用 outbound 或经其他出站代理重新注册。",
        ),
        440: (
            "A proxy had to fork the request in parallel but the remaining Max-Breadth was too "
            "small, and it would not fork serially or redirect instead. The request missed some "
            "destinations; as with 483, recovery means narrowing the search.",
            "代理需要并行分叉该请求，但剩余的 Max-Breadth 不够，它又不愿改为串行分叉或重定向。"
            "因此请求没有到达所有可能的目的地；与 483 类似，只能缩小搜索范围后再试。",
        ),
        469: (
            "An INFO request used an Info Package the UA never said it would receive. The "
            "response must carry Recv-Info with the packages it does accept; only that "
            "transaction fails, the invite dialog usage goes on.",
            "INFO 请求所属的 Info Package 并未被接收方声明愿意接收。"
            "响应必须带 Recv-Info 头字段列出其接受的 Info Package；失败只影响本事务，"
            "invite 对话用法继续存在。",
        ),
        470: (
            "The request carried a URI list and the relay has no permission to send to at least "
            "one of the URIs. The response should name them in Permission-Missing so the client "
            "can arrange consent (for example through XCAP) before trying again.",
            "请求携带了 URI 列表，而中继对其中至少一个 URI 没有发送许可。"
            "响应宜用 Permission-Missing 头字段列出这些 URI，"
            "客户端可借助 XCAP 等手段取得许可后再试。",
        ),
        489: (
            "The server does not understand the event package named in the Event header field of "
            "a SUBSCRIBE or NOTIFY; a notifier usually advertises its packages in Allow-Events. "
            "Sent to any other method it is best handled as an unknown 4xx.",
            "服务器不认识 SUBSCRIBE 或 NOTIFY 请求 Event 头字段中的事件包；"
            "通知方通常会用 Allow-Events 声明自己支持的事件包。其他方法收到此码时，"
            "宜按未知 4xx 处理。",
        ),
        494: (
            "The server requires the SIP security agreement (RFC 3329) first. The response must "
            "list its mechanisms in Security-Server (plus Require: sec-agree when the server "
            "starts the agreement); the client sets one up and resends with Security-Verify.",
            "服务器要求先完成 SIP 安全协商（RFC 3329）才处理请求。"
            "响应必须用 Security-Server 列出其支持的安全机制（由服务器发起协商时还须带 Require: se"
            "c-agree）；客户端选定并建立机制后，带上 Security-Verify 重发请求。",
        ),
    }
)
