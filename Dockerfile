# The lakehouse CLI image: `relay`, `serve`, `migrate` and every other command.
#   docker build -t lakehouse .
#   docker run --rm lakehouse --help
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY drizzle ./drizzle
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/drizzle ./drizzle
USER node
ENTRYPOINT ["node", "bin/lakehouse.js"]
CMD ["--help"]
