/* The HTTP endpoints on esp_http_server: it reads and parses each request
 * head, and hr_http_serve_head does the rest as on every other port (the
 * same checks, routes, HR1 or HR2 authentication, limits, upload session and
 * answers). One handler takes every GET and POST path, so a wrong path gets
 * the agent's own 404 and 405 answers. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"
#include "esp_http_server.h"
#include "esp_log.h"
#include "hotreload/http.h"
#include "hotreload/transport.h"
#include "sdkconfig.h"

static const char *TAG = "hotreload";

static struct {
    httpd_handle_t handle;
    hotreload_server_config_t cfg; /* strings and key copied: see start() */
    char partition[32];
    uint8_t key[64];
    uint8_t pubkey[65]; /* HR_AUTH_PUBKEY_LEN, when config->auth_pubkey */
} srv;

static int head_value(void *ctx, const char *name, char *buf, size_t size)
{
    httpd_req_t *req = ctx;
    size_t n = httpd_req_get_hdr_value_len(req, name);
    if (n == 0)
        return -1; /* absent (an empty value counts as absent: none of ours may be empty) */
    if (n >= size)
        return (int)size;
    return httpd_req_get_hdr_value_str(req, name, buf, size) == ESP_OK ? (int)n : -1;
}

/* The body, as far as Content-Length goes: 0 once it is all read. */
static int body_read(void *ctx, void *buf, size_t len)
{
    int n = httpd_req_recv(ctx, buf, len);
    return n >= 0 ? n : -1; /* a timeout too: the agent answers 408 */
}

static int raw_write(void *ctx, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        int n = httpd_send(ctx, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char *method_name(int method)
{
    return method == HTTP_GET ? "GET" : method == HTTP_POST ? "POST" : "?";
}

static esp_err_t on_request(httpd_req_t *req)
{
    struct hr_http_head head = {req, method_name(req->method), req->uri, head_value};
    struct hr_http_conn conn = {req, body_read, raw_write};
    char summary[160];
    hr_http_serve_head(&head, &conn, &srv.cfg, summary, sizeof summary);
    ESP_LOGI(TAG, "%s", summary);
    /* Every answer said Connection: close. */
    httpd_sess_trigger_close(req->handle, httpd_req_to_sockfd(req));
    return ESP_OK;
}

/* The caller's strings and key need not outlive this call: copied. */
static hotreload_err_t copy_config(const hotreload_server_config_t *config)
{
    size_t keylen = config->auth_disabled ? 0 : config->auth_key_len;
    const char *part = config->partition ? config->partition : "hotreload";
    if (keylen > sizeof srv.key || strlen(part) >= sizeof srv.partition)
        return hr_rt_fail(HOTRELOAD_ERR_ARG, "HTTP server: key over %u bytes or partition "
                          "name over %u", (unsigned)sizeof srv.key,
                          (unsigned)sizeof srv.partition - 1);
    srv.cfg = *config;
    strcpy(srv.partition, part);
    srv.cfg.partition = srv.partition;
    srv.cfg.bind_address = NULL; /* esp_http_server listens on every interface */
    memcpy(srv.key, config->auth_key, keylen);
    srv.cfg.auth_key = keylen ? srv.key : NULL;
    srv.cfg.auth_key_len = keylen;
    bool pub = config->auth_pubkey && !config->auth_disabled;
    if (pub)
        memcpy(srv.pubkey, config->auth_pubkey, sizeof srv.pubkey);
    srv.cfg.auth_pubkey = pub ? srv.pubkey : NULL;
    return HOTRELOAD_OK;
}

hotreload_err_t hotreload_server_start(const hotreload_server_config_t *config)
{
    hotreload_err_t err = hr_http_check_config(config);
    if (err)
        return err;
    if (srv.handle)
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: already running");
    if ((err = copy_config(config)) != HOTRELOAD_OK)
        return err;
    if (config->auth_disabled)
        ESP_LOGW(TAG, "WARNING: uploads are NOT authenticated (auth_disabled)");
    httpd_config_t hc = HTTPD_DEFAULT_CONFIG();
    hc.server_port = config->port;
    hc.ctrl_port = (uint16_t)(config->port + 1); /* apart from another server's 32768 */
    hc.stack_size = CONFIG_HOTRELOAD_SERVER_STACK_SIZE;
    hc.uri_match_fn = httpd_uri_match_wildcard;
    hc.lru_purge_enable = true; /* a new client drops the least recently used one */
    hc.recv_wait_timeout = 5;
    hc.send_wait_timeout = 5;
    esp_err_t e = httpd_start(&srv.handle, &hc);
    if (e != ESP_OK) {
        srv.handle = NULL;
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: httpd_start on port %u: %s",
                          (unsigned)config->port, esp_err_to_name(e));
    }
    static const httpd_method_t methods[] = {HTTP_GET, HTTP_POST};
    for (int i = 0; i < 2; i++) {
        httpd_uri_t uri = {.uri = "/*", .method = methods[i], .handler = on_request};
        httpd_register_uri_handler(srv.handle, &uri);
    }
    ESP_LOGI(TAG, "HTTP server on port %u (GET /status; POST /upload, /upload-and-reload, "
             "/reload, /unload)", (unsigned)config->port);
    return HOTRELOAD_OK;
}

hotreload_err_t hotreload_server_stop(void)
{
    if (!srv.handle)
        return HOTRELOAD_ERR_STATE;
    httpd_stop(srv.handle);
    srv.handle = NULL;
    return HOTRELOAD_OK;
}
