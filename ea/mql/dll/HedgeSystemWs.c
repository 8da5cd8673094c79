/*
 * HedgeSystemWs.dll - the smallest WebSocket client MetaTrader 4 can call.
 *
 * MQL4 has no sockets, so HedgeSystemEA.mq4 imports these functions. They wrap the WebSocket
 * API of WinHTTP (Windows 8 / Server 2012 and later): WinHTTP does the RFC 6455 handshake,
 * masking, fragmentation and ping/pong; this file only adds a receive thread and a message
 * queue so the single-threaded EA can poll without blocking.
 *
 * MetaTrader 4 is a 32-bit program: build a 32-bit DLL (see ea/mql/README.md).
 *   mingw-w64:  i686-w64-mingw32-gcc -O2 -Wall -shared -o HedgeSystemWs.dll HedgeSystemWs.c \
 *                 -lwinhttp -static-libgcc -Wl,--kill-at      (or: make -C ea/mql/dll)
 *   MSVC (x86 Native Tools prompt):  cl /O2 /LD HedgeSystemWs.c /link /DEF:HedgeSystemWs.def winhttp.lib
 *
 * Functions (all __stdcall, the MQL4 import convention; strings are UTF-16 as MQL4 passes them):
 *   int  HsWsConnect(host, port, path, timeoutMs)   handle > 0, or -Win32 error code
 *   int  HsWsSend(handle, utf8, length)             1 sent, 0 failed (connection is then closed)
 *   int  HsWsReceive(handle, buffer, capacity)      n > 0 bytes of the oldest text message,
 *                                                   0 none waiting, -1 closed, -2 buffer too small
 *   int  HsWsCloseStatus(handle)                    close code the agent sent, 0 if none
 *   int  HsWsLastError(handle)                      Win32/WinHTTP error of the last failure
 *   void HsWsClose(handle, code)                    sends a close frame and frees the handle
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <winhttp.h>
#include <stdlib.h>
#include <string.h>

#define HS_EXPORT __declspec(dllexport)
#define HS_MAX_HANDLES 16
#define HS_MAX_MESSAGE 65536

typedef struct HsMessage {
    struct HsMessage *next;
    int length;
    unsigned char data[1];
} HsMessage;

/*
 * Shutdown and the receive thread. A slot is shared by the EA's calls (the owner) and its receive
 * thread; `refs` counts them and whoever drops the last reference frees the slot, so HsWsClose
 * never frees memory the thread still reads, however long the thread takes to notice. The owner
 * closes the WebSocket handle (which ends a pending receive) under `lock`, and the thread only
 * touches the handle under `lock` while `ownerClosed` is 0. The thread also holds a reference to
 * this DLL (GetModuleHandleEx) and leaves with FreeLibraryAndExitThread, so the terminal can
 * unload the DLL after OnDeinit while the thread is still on its way out.
 */
typedef struct {
    int used;
    HINTERNET session, connection, socket;
    HANDLE thread;
    HMODULE module;
    CRITICAL_SECTION lock;
    HsMessage *head, *tail;
    volatile LONG closed;
    volatile LONG refs;
    int ownerClosed;
    int closeStatus;
    DWORD lastError;
} HsConnection;

static HsConnection g_connections[HS_MAX_HANDLES];
static CRITICAL_SECTION g_tableLock;

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
    (void)instance;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) InitializeCriticalSection(&g_tableLock);
    if (reason == DLL_PROCESS_DETACH) DeleteCriticalSection(&g_tableLock);
    return TRUE;
}

static HsConnection *lookup(int handle) {
    if (handle < 1 || handle > HS_MAX_HANDLES || !g_connections[handle - 1].used) return NULL;
    if (g_connections[handle - 1].ownerClosed) return NULL; /* released; only its thread is left */
    return &g_connections[handle - 1];
}

static void push_message(HsConnection *c, const unsigned char *data, int length) {
    HsMessage *m = (HsMessage *)malloc(sizeof(HsMessage) + (size_t)length);
    if (m == NULL) return;
    m->next = NULL;
    m->length = length;
    memcpy(m->data, data, (size_t)length);
    EnterCriticalSection(&c->lock);
    if (c->tail) c->tail->next = m; else c->head = m;
    c->tail = m;
    LeaveCriticalSection(&c->lock);
}

static void mark_closed(HsConnection *c, DWORD error) {
    USHORT status = 0;
    DWORD reasonLength = 0;
    BYTE reason[123];
    EnterCriticalSection(&c->lock);
    if (!c->ownerClosed && c->socket &&
        WinHttpWebSocketQueryCloseStatus(c->socket, &status, reason, sizeof reason, &reasonLength) == NO_ERROR)
        c->closeStatus = status;
    if (error) c->lastError = error;
    LeaveCriticalSection(&c->lock);
    InterlockedExchange(&c->closed, 1);
}

/* Frees everything of a slot; called by whoever drops its last reference. */
static void free_slot(HsConnection *c) {
    if (c->connection) WinHttpCloseHandle(c->connection);
    if (c->session) WinHttpCloseHandle(c->session);
    while (c->head) {
        HsMessage *next = c->head->next;
        free(c->head);
        c->head = next;
    }
    DeleteCriticalSection(&c->lock);
    EnterCriticalSection(&g_tableLock);
    memset(c, 0, sizeof *c);
    LeaveCriticalSection(&g_tableLock);
}

static void drop_ref(HsConnection *c) {
    if (InterlockedDecrement(&c->refs) == 0) free_slot(c);
}

/* Receives whole text messages into the queue until the connection ends. */
static void receive_messages(HsConnection *c) {
    unsigned char *message = (unsigned char *)malloc(HS_MAX_MESSAGE);
    DWORD used = 0;
    if (message == NULL) {
        mark_closed(c, ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    while (!c->closed) {
        DWORD got = 0;
        WINHTTP_WEB_SOCKET_BUFFER_TYPE type;
        DWORD room = HS_MAX_MESSAGE - used;
        if (room == 0) { /* a message over 64 KiB: the contract's limit */
            WinHttpWebSocketClose(c->socket, 1009, NULL, 0);
            mark_closed(c, ERROR_INSUFFICIENT_BUFFER);
            break;
        }
        DWORD error = WinHttpWebSocketReceive(c->socket, message + used, room, &got, &type);
        if (error != NO_ERROR) {
            mark_closed(c, error);
            break;
        }
        if (type == WINHTTP_WEB_SOCKET_CLOSE_BUFFER_TYPE) {
            mark_closed(c, 0);
            break;
        }
        used += got;
        if (type == WINHTTP_WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE) {
            push_message(c, message, (int)used);
            used = 0;
        } else if (type == WINHTTP_WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE) {
            used = 0; /* not part of the protocol: dropped */
        }
        /* *_FRAGMENT_BUFFER_TYPE: keep appending */
    }
    free(message);
}

static DWORD WINAPI receive_loop(LPVOID arg) {
    HsConnection *c = (HsConnection *)arg;
    HMODULE module = c->module; /* read before drop_ref: the slot may be gone afterwards */
    receive_messages(c);
    drop_ref(c);
    if (module) FreeLibraryAndExitThread(module, 0);
    return 0;
}

/* The owner's side of a shutdown: end the link, let go of the slot (the thread may outlive it). */
static void release(HsConnection *c) {
    InterlockedExchange(&c->closed, 1);
    EnterCriticalSection(&c->lock);
    c->ownerClosed = 1;
    if (c->socket) WinHttpCloseHandle(c->socket); /* also ends a pending receive */
    c->socket = NULL;
    LeaveCriticalSection(&c->lock);
    if (c->thread) {
        WaitForSingleObject(c->thread, 2000); /* usually at once; if not, the thread frees the slot */
        CloseHandle(c->thread);
        c->thread = NULL;
    }
    drop_ref(c);
}

HS_EXPORT int __stdcall HsWsConnect(const wchar_t *host, int port, const wchar_t *path, int timeoutMs) {
    HsConnection *c = NULL;
    int handle = 0;
    DWORD error = NO_ERROR;
    HINTERNET request = NULL;
    DWORD status = 0, size = sizeof status;

    EnterCriticalSection(&g_tableLock);
    for (int i = 0; i < HS_MAX_HANDLES && c == NULL; i++) {
        if (!g_connections[i].used) {
            c = &g_connections[i];
            memset(c, 0, sizeof *c);
            c->used = 1;
            handle = i + 1;
        }
    }
    LeaveCriticalSection(&g_tableLock);
    if (c == NULL) return -(int)ERROR_TOO_MANY_OPEN_FILES;
    InitializeCriticalSection(&c->lock);
    c->refs = 1; /* the owner's; the receive thread takes its own below */

    c->session = WinHttpOpen(L"HedgeSystemEA/1.0", WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                             WINHTTP_NO_PROXY_BYPASS, 0);
    if (!c->session) goto fail;
    WinHttpSetTimeouts(c->session, timeoutMs, timeoutMs, timeoutMs, timeoutMs);
    c->connection = WinHttpConnect(c->session, host, (INTERNET_PORT)port, 0);
    if (!c->connection) goto fail;
    request = WinHttpOpenRequest(c->connection, L"GET", path, NULL, WINHTTP_NO_REFERER,
                                 WINHTTP_DEFAULT_ACCEPT_TYPES, 0);
    if (!request) goto fail;
    if (!WinHttpSetOption(request, WINHTTP_OPTION_UPGRADE_TO_WEB_SOCKET, NULL, 0)) goto fail;
    if (!WinHttpSendRequest(request, WINHTTP_NO_ADDITIONAL_HEADERS, 0, NULL, 0, 0, 0)) goto fail;
    if (!WinHttpReceiveResponse(request, NULL)) goto fail;
    if (!WinHttpQueryHeaders(request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                             WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX))
        goto fail;
    if (status != 101) {
        SetLastError(ERROR_WINHTTP_INVALID_SERVER_RESPONSE);
        goto fail;
    }
    /* Checks Sec-WebSocket-Accept and hands the connection over to the WebSocket handle. */
    c->socket = WinHttpWebSocketCompleteUpgrade(request, 0);
    if (!c->socket) goto fail;
    WinHttpCloseHandle(request);
    request = NULL;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (LPCWSTR)(void *)receive_loop, &c->module))
        c->module = NULL;
    InterlockedIncrement(&c->refs);
    c->thread = CreateThread(NULL, 0, receive_loop, c, 0, NULL);
    if (!c->thread) {
        InterlockedDecrement(&c->refs);
        if (c->module) FreeLibrary(c->module);
        c->module = NULL;
        goto fail;
    }
    return handle;

fail:
    error = GetLastError();
    if (request) WinHttpCloseHandle(request);
    release(c);
    return -(int)(error ? error : ERROR_GEN_FAILURE);
}

HS_EXPORT int __stdcall HsWsSend(int handle, const unsigned char *data, int length) {
    HsConnection *c = lookup(handle);
    if (c == NULL || c->closed || length < 0) return 0;
    DWORD error = WinHttpWebSocketSend(c->socket, WINHTTP_WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE,
                                       (PVOID)data, (DWORD)length);
    if (error != NO_ERROR) {
        mark_closed(c, error);
        return 0;
    }
    return 1;
}

HS_EXPORT int __stdcall HsWsReceive(int handle, unsigned char *buffer, int capacity) {
    HsConnection *c = lookup(handle);
    int result = 0;
    if (c == NULL) return -1;
    EnterCriticalSection(&c->lock);
    HsMessage *m = c->head;
    if (m != NULL) {
        if (m->length > capacity) {
            result = -2;
        } else {
            memcpy(buffer, m->data, (size_t)m->length);
            result = m->length;
            c->head = m->next;
            if (c->head == NULL) c->tail = NULL;
            free(m);
        }
    } else if (c->closed) {
        result = -1; /* queued messages are delivered before the close is reported */
    }
    LeaveCriticalSection(&c->lock);
    return result;
}

HS_EXPORT int __stdcall HsWsCloseStatus(int handle) {
    HsConnection *c = lookup(handle);
    return c ? c->closeStatus : 0;
}

HS_EXPORT int __stdcall HsWsLastError(int handle) {
    HsConnection *c = lookup(handle);
    return c ? (int)c->lastError : 0;
}

HS_EXPORT void __stdcall HsWsClose(int handle, int code) {
    HsConnection *c = lookup(handle);
    if (c == NULL || c->ownerClosed) return;
    if (!c->closed) {
        InterlockedExchange(&c->closed, 1);
        WinHttpWebSocketShutdown(c->socket, (USHORT)code, NULL, 0); /* close frame, no wait */
    }
    release(c);
}
